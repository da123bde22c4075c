from django.urls import path

from . import views

app_name = "spend"

urlpatterns = [
    path("", views.my_spend, name="mine"),
    path("review/", views.review, name="review"),
    path("projects/<uuid:uuid>/", views.project_spend, name="project"),
    path("projects/<uuid:uuid>/budget/", views.project_budget, name="project_budget"),
]
