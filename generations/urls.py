from django.urls import path

from . import views

app_name = "generations"

urlpatterns = [
    path("", views.generate, name="generate"),
    path("generate/quote/", views.quote, name="quote"),
    path("generations/recent/", views.recent, name="recent"),
    path("generations/<uuid:uuid>/", views.generation_detail, name="generation_detail"),
    path("generations/<uuid:uuid>/move/", views.generation_move, name="generation_move"),
    path("gallery/", views.gallery, name="gallery"),
    path("images/<uuid:uuid>/", views.image_detail, name="image_detail"),
    path("images/<uuid:uuid>/move/", views.image_move, name="image_move"),
    path("images/<uuid:uuid>/original/", views.image_original, name="image_original"),
    path("images/<uuid:uuid>/thumbnail/<int:size>/", views.image_thumbnail, name="image_thumbnail"),
]
