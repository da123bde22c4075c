from django.urls import path

from .views import browse, bulk, images, sharing

app_name = "gallery"

# The paths are those the generations app had before the gallery became an app of its own:
# bookmarks and share links keep working.
urlpatterns = [
    path("gallery/", browse.gallery, name="gallery"),
    path("gallery/authors/", browse.gallery_author_options, name="gallery_author_options"),
    path("generations/<uuid:uuid>/move/", images.generation_move, name="generation_move"),
    path("images/<uuid:uuid>/", images.image_detail, name="image_detail"),
    path("images/<uuid:uuid>/move/", images.image_move, name="image_move"),
    path("images/<uuid:uuid>/original/", images.image_original, name="image_original"),
    path(
        "images/<uuid:uuid>/thumbnail/<int:size>/", images.image_thumbnail, name="image_thumbnail"
    ),
    # Deleting and restoring one image from its tile in the studio (issue 11).
    path("images/<uuid:uuid>/trash/", images.image_trash, name="image_trash"),
    path("images/<uuid:uuid>/restore/", images.image_restore, name="image_restore"),
    path("images/<uuid:uuid>/share/", sharing.image_share, name="image_share"),
    path(
        "images/<uuid:uuid>/share/<uuid:token>/revoke/",
        sharing.share_revoke,
        name="share_revoke",
    ),
    # --- favourites (issue 6) ---
    path("images/<uuid:uuid>/favourite/", browse.image_favourite, name="image_favourite"),
    # --- bulk actions and trash (issue 6) ---
    path("images/bulk/zip/", bulk.bulk_zip, name="bulk_zip"),
    path("images/bulk/move/", bulk.bulk_move, name="bulk_move"),
    path("images/bulk/trash/", bulk.bulk_trash, name="bulk_trash"),
    path("images/bulk/restore/", bulk.bulk_restore, name="bulk_restore"),
    # Public, no login: the token is the whole key.
    path("s/<uuid:token>/", sharing.shared_image, name="shared_image"),
    path("s/<uuid:token>/image/", sharing.shared_image_file, name="shared_image_file"),
]
