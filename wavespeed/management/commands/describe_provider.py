from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from wavespeed.provider import current_provider, run_processes


class Command(BaseCommand):
    help = (
        "Say which WaveSpeed URL Darkroom talks to, from the settings its client uses; with "
        "--processes, print the Procfile entries `make run` starts for it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes",
            action="store_true",
            help="print the `make run` processes instead (the simulator only when it is used)",
        )

    def handle(self, *args: object, **options: object) -> None:
        provider = current_provider()
        if options["processes"]:
            self.stdout.write(" ".join(run_processes(provider)))
        else:
            self.stdout.write(f"Darkroom talks to {provider.description}.")
