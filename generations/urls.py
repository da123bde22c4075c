from django.urls import path

from . import (
    bulk_views,
    enhance_views,
    gallery_views,
    reference_views,
    share_views,
    studio_views,
    views,
    webhook_views,
)

app_name = "generations"

urlpatterns = [
    path("", views.generate, name="generate"),
    # WaveSpeed's webhooks (wavespeed.webhooks.RECEIVER_PATH): signed by WaveSpeed, no login.
    path("hooks/wavespeed/", webhook_views.wavespeed_webhook, name="wavespeed_webhook"),
    path("generate/quote/", views.quote, name="quote"),
    path("generations/recent/", views.recent, name="recent"),
    path("generations/<uuid:uuid>/", views.generation_detail, name="generation_detail"),
    path("generations/<uuid:uuid>/move/", views.generation_move, name="generation_move"),
    path(
        "generations/<uuid:uuid>/elements/<uuid:element>/preview/",
        views.generation_element_preview,
        name="generation_element_preview",
    ),
    # --- the studio: runs as cards, run again, the poll behind titles and toasts (issue 11) ---
    path("generations/active/", studio_views.runs_active, name="runs_active"),
    path("generations/<uuid:uuid>/run/", studio_views.run, name="run"),
    path("generations/<uuid:uuid>/again/", studio_views.generation_again, name="generation_again"),
    path("images/<uuid:uuid>/trash/", studio_views.image_trash, name="image_trash"),
    path("images/<uuid:uuid>/restore/", studio_views.image_restore, name="image_restore"),
    path("gallery/", gallery_views.gallery, name="gallery"),
    path("gallery/authors/", gallery_views.gallery_author_options, name="gallery_author_options"),
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
    path(
        "images/<uuid:uuid>/favourite/",
        gallery_views.image_favourite,
        name="image_favourite",
    ),
    # --- bulk actions and trash (issue 6) ---
    path("images/bulk/zip/", bulk_views.bulk_zip, name="bulk_zip"),
    path("images/bulk/move/", bulk_views.bulk_move, name="bulk_move"),
    path("images/bulk/trash/", bulk_views.bulk_trash, name="bulk_trash"),
    path("images/bulk/restore/", bulk_views.bulk_restore, name="bulk_restore"),
    # --- references and the prompt enhancer (issue 5) ---
    path("enhance/", enhance_views.enhance, name="enhance"),
    path("enhancements/<uuid:uuid>/", enhance_views.enhancement, name="enhancement"),
    path("references/upload/", reference_views.reference_upload, name="reference_upload"),
    path("references/<uuid:uuid>/file/", reference_views.reference_file, name="reference_file"),
    path(
        "references/<uuid:uuid>/unpick/", reference_views.reference_unpick, name="reference_unpick"
    ),
    path(
        "images/<uuid:uuid>/use-as-reference/",
        reference_views.image_use_as_reference,
        name="image_use_as_reference",
    ),
    # Public, no login: the token is the whole key.
    path("s/<uuid:token>/", share_views.shared_image, name="shared_image"),
    path("s/<uuid:token>/image/", share_views.shared_image_file, name="shared_image_file"),
]
