from django.urls import path

from . import views

app_name = "elements"

urlpatterns = [
    path("", views.library, name="library"),
    path("new/", views.element_create, name="create"),
    path("projects/<uuid:project>/new/", views.element_create, name="create_in_project"),
    path("new/kling/", views.element_create_on_kling, name="create_on_kling"),
    path(
        "projects/<uuid:project>/new/kling/",
        views.element_create_on_kling,
        name="create_on_kling_in_project",
    ),
    path("<uuid:uuid>/card/", views.element_card, name="card"),
    path("<uuid:uuid>/edit/", views.element_edit, name="edit"),
    path("<uuid:uuid>/archive/", views.element_archive, name="archive"),
    path("<uuid:uuid>/preview/", views.element_preview, name="preview"),
]
