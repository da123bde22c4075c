from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations"

    def ready(self) -> None:
        from wavespeed import runner

        from .jobs import GENERATION
        from .services.enhancing import ENHANCEMENT

        runner.register(GENERATION)
        runner.register(ENHANCEMENT)
