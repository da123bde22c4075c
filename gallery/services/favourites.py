"""Stars: one person's favourites. The caller checked that the person may see the image."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from generations.models import Favourite, OutputImage


def favourite_set(*, user: AbstractBaseUser, image: OutputImage, starred: bool | None) -> bool:
    """Star or unstar `image` (None: toggle); returns whether it is now starred.

    Safe against a double click: two concurrent stars make one row (the unique constraint;
    get_or_create fetches the row a concurrent request made)."""
    if starred is None:
        starred = not Favourite.objects.filter(user=user, image=image).exists()
    if not starred:
        Favourite.objects.filter(user=user, image=image).delete()
        return False
    Favourite.objects.get_or_create(user=user, image=image)
    return True
