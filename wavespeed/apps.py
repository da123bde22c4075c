from django.apps import AppConfig


class WavespeedConfig(AppConfig):
    name = "wavespeed"
    verbose_name = "WaveSpeed"
