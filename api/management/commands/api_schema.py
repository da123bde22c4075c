"""Write the API's OpenAPI document to docs/api/openapi.json (or check it: --check)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.schema import SNAPSHOT, schema_text


class Command(BaseCommand):
    help = "Write the API's OpenAPI schema to docs/api/openapi.json (--check: only compare)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if the file differs.")

    def handle(self, *args: object, check: bool = False, **options: object) -> None:
        text = schema_text()
        if check:
            if not SNAPSHOT.exists() or SNAPSHOT.read_text(encoding="utf-8") != text:
                raise CommandError(f"{SNAPSHOT} is out of date: run `make api-schema`.")
            self.stdout.write("The API schema snapshot is up to date.")
            return
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {SNAPSHOT}.")
