"""Pages as a person uses them, and what an outsider gets: nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations.models import Generation

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client) -> None:
    for name in ("generations:generate", "gallery:gallery", "generations:recent"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_form_offers_every_parameter_with_a_label_and_a_price(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    for field in ("prompt", "aspect_ratio", "result_type", "num_images"):
        assert f'for="id_{field}"' in html
    assert "Resolution" in html
    assert "1 × 1k × $0.0280 = <strong>$0.0280</strong>" in html


def test_a_valid_submit_creates_a_generation_and_shows_it_at_once(client, user, pipeline) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"),
        {
            "prompt": "neon alley",
            "aspect_ratio": "9:16",
            "resolution": "4k",
            "result_type": "single",
            "num_images": 2,
        },
        follow=True,
    )
    generation = Generation.objects.get()
    assert (generation.owner, generation.resolution, generation.num_images) == (user, "4k", 2)
    assert generation.quoted_cost == generation.price_per_image * 2
    html = response.content.decode()
    assert "neon alley" in html
    assert 'data-status="queued"' in html
    assert 'hx-trigger="every 1500ms"' in html  # the run polls for itself
    # The form comes back filled with what was sent.
    assert "neon alley</textarea>" in html
    assert 'value="9:16" selected' in html


def test_an_invalid_submit_keeps_the_form_and_says_what_is_wrong(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"),
        {
            "prompt": "keep me",
            "aspect_ratio": "21:9",
            "resolution": "2k",
            "result_type": "single",
            "num_images": 12,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kling Image O3 makes at most 9 images per run." in html
    assert "keep me" in html
    assert 'value="21:9" selected' in html
    assert Generation.objects.count() == 0


def test_the_quote_follows_the_options(client, user) -> None:
    client.force_login(user)
    html = client.get(
        reverse("generations:quote"), {"resolution": "4k", "num_images": 4}
    ).content.decode()
    assert "4 × 4k × $0.0560 = <strong>$0.2240</strong>" in html
    html = client.get(
        reverse("generations:quote"), {"resolution": "2k", "num_images": 3}
    ).content.decode()
    assert "3 × 2k × $0.0280 = <strong>$0.0840</strong>" in html


def test_recent_stops_polling_once_everything_is_final(client, user, done_generation) -> None:
    client.force_login(user)
    response = client.get(reverse("generations:recent"), headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert "hx-trigger" not in response.content.decode()


def test_generate_again_fills_the_form(client, user, done_generation) -> None:
    client.force_login(user)
    html = client.get(
        reverse("generations:generate"), {"again": str(done_generation.uuid)}
    ).content.decode()
    assert "a quiet forest</textarea>" in html
    assert 'name="num_images" value="2"' in html


@pytest.mark.parametrize("again", ["not-a-uuid", "1", "\x00", "x" * 10_000])
def test_a_broken_generate_again_link_says_so_over_an_empty_form(client, user, again) -> None:
    client.force_login(user)
    response = client.get(reverse("generations:generate"), {"again": again})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This “Generate again” link is broken: it does not name a generation." in html
    assert '<textarea name="prompt"' in html


@pytest.mark.parametrize("view", ["generation_detail", "again"])
def test_an_outsider_gets_not_found(client, outsider, done_generation, view: str) -> None:
    client.force_login(outsider)
    urls = {
        "generation_detail": reverse("generations:generation_detail", args=[done_generation.uuid]),
        "again": reverse("generations:generate") + f"?again={done_generation.uuid}",
    }
    assert client.get(urls[view]).status_code == 404


def test_an_outsiders_gallery_and_recent_list_are_empty(client, outsider, done_generation) -> None:
    client.force_login(outsider)
    for name in ("gallery:gallery", "generations:recent"):
        html = client.get(reverse(name)).content.decode()
        assert "a quiet forest" not in html
        assert str(done_generation.images.first().uuid) not in html
