from django.urls import path

from . import views

app_name = "spend"

urlpatterns = [
    path("", views.my_spend, name="mine"),
    path("review/", views.review, name="review"),
    path(
        "review/generations/<uuid:uuid>/thumbnail/",
        views.review_thumbnail,
        name="review_thumbnail",
    ),
    path("projects/<uuid:uuid>/", views.project_spend, name="project"),
    path("projects/<uuid:uuid>/budget/", views.project_budget, name="project_budget"),
]
