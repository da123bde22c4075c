from django.urls import path

from . import share_views, views

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
    path("images/<uuid:uuid>/share/", share_views.image_share, name="image_share"),
    path(
        "images/<uuid:uuid>/share/<uuid:token>/revoke/",
        share_views.share_revoke,
        name="share_revoke",
    ),
    # --- gallery: favourites, lightbox (issue 6) ---
    # --- bulk actions and trash (issue 6) ---
    # --- references and the prompt enhancer (issue 5) ---
    # Public, no login: the token is the whole key.
    path("s/<uuid:token>/", share_views.shared_image, name="shared_image"),
    path("s/<uuid:token>/image/", share_views.shared_image_file, name="shared_image_file"),
]
