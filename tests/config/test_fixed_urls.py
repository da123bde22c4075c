"""`{% fixed_url %}` writes what `{% url %}` writes, and reverses each URL once."""

from __future__ import annotations

from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from config import fixed_urls

STAND_IN = "00000000-0000-0000-0000-000000000000"


def test_it_writes_what_url_writes_and_remembers(monkeypatch) -> None:
    calls = []
    real = fixed_urls.reverse
    monkeypatch.setattr(fixed_urls, "reverse", lambda *a, **k: calls.append(a) or real(*a, **k))
    fixed_urls._reversed.cache_clear()
    source = (
        "{% load fixed_urls %}{% fixed_url 'gallery:gallery' %} "
        "{% fixed_url 'gallery:image_original' '" + STAND_IN + "' %} "
        "{% fixed_url 'gallery:gallery' as g %}{{ g }}"
    )
    expected = (
        f"{reverse('gallery:gallery')} "
        f"{reverse('gallery:image_original', args=[STAND_IN])} "
        f"{reverse('gallery:gallery')}"
    )
    for _ in range(3):
        assert Template(source).render(Context()) == expected
    assert len(calls) == 2  # once per URL, however many renders


def test_a_script_prefix_gets_its_own_urls() -> None:
    fixed_urls._reversed.cache_clear()
    plain = fixed_urls.fixed_reverse("gallery:gallery")
    try:
        set_script_prefix("/darkroom/")
        assert fixed_urls.fixed_reverse("gallery:gallery") == "/darkroom" + plain
    finally:
        set_script_prefix("/")
    assert fixed_urls.fixed_reverse("gallery:gallery") == plain
