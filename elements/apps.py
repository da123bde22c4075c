from django.apps import AppConfig


class ElementsConfig(AppConfig):
    name = "elements"
    verbose_name = "Kling elements"

    def ready(self) -> None:
        from wavespeed import runner

        from .creation import ELEMENT_CREATION

        runner.register(ELEMENT_CREATION)
