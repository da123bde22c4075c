from django.urls import path

from . import views

app_name = "hooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_create, name="create"),
    path("<uuid:uuid>/", views.endpoint_detail, name="detail"),
    path("<uuid:uuid>/edit/", views.endpoint_edit, name="edit"),
    path("<uuid:uuid>/delete/", views.endpoint_delete, name="delete"),
    path("<uuid:uuid>/secret/", views.endpoint_rotate, name="rotate"),
    path("<uuid:uuid>/resume/", views.endpoint_resume, name="resume"),
    path("<uuid:uuid>/test/", views.endpoint_test, name="test"),
    path(
        "<uuid:uuid>/deliveries/<uuid:delivery>/resend/",
        views.delivery_resend,
        name="resend",
    ),
]
