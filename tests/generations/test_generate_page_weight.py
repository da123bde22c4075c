"""The Generate page's weight with 20 finished runs of 4 images: each tile's POST buttons share
one form that holds the CSRF token (htmx sends it as a header), so the token is on the page
once, not once per button, and the buttons still post without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from generations.models import OutputImage
from tests.factories import make_image

pytestmark = pytest.mark.django_db

RUNS = 20
IMAGES = 4


def twenty_runs(user) -> None:
    for n in range(RUNS):
        first = make_image(user, prompt=f"a lantern over the harbour at dusk, take {n}")
        for index in range(1, IMAGES):
            OutputImage.objects.create(
                generation=first.generation,
                owner=user,
                index=index,
                file=first.file.name,
                width=first.width,
                height=first.height,
                bytes=first.bytes,
            )
        first.generation.num_images = IMAGES
        first.generation.save(update_fields=["num_images"])


def test_the_token_is_on_the_page_once_and_every_tile_button_posts_through_it(client, user) -> None:
    twenty_runs(user)
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    print(f"Generate page, {RUNS} runs x {IMAGES} images: {len(html.encode())} bytes of HTML")
    # The stars keep a token each (their form is the gallery's, shared); beyond them, only the
    # page-wide form, the Generate form, the theme switch and Log out: none per run or tile.
    stars = html.count('class="star-form"')
    tokens = html.count('name="csrfmiddlewaretoken"') - stars
    assert tokens <= 4, tokens
    # Without JavaScript each tile action is a submit button of the page's token-holding form.
    assert re.search(
        r'<form id="page-post" method="post"[^>]*>\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken"',
        html,
    )
    for name in ("gallery:image_trash", "generations:image_use_as_reference"):
        image = OutputImage.objects.first()
        url = reverse(name, args=[image.uuid])
        assert f'form="page-post" formaction="{url}"' in html, name
    runs = html.count('<article class="run')
    assert html.count('form="page-post"') == runs * IMAGES * 2 + runs  # + Run again
    # Before: 159,769 bytes for the ten runs the page shows: ~12.6 KB of tokens, ~50 KB of
    # inline icon paths (now one sprite and a <use> per icon).
    assert len(html.encode()) < 125_000
    used = set(re.findall(r'<use href="#(i-[a-z]+)"', html))
    assert used and all(html.count(f'<symbol id="{name}"') == 1 for name in used)
