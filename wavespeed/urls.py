from django.urls import path

from . import views

app_name = "wavespeed"

urlpatterns = [
    # WaveSpeed's webhooks (webhooks.RECEIVER_PATH): signed by WaveSpeed, no login.
    path("hooks/wavespeed/", views.wavespeed_webhook, name="webhook"),
]
