"""The prompt enhancer in headless Chromium: suggest, compare, accept / edit / discard, generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from generations.models import Generation, PromptEnhancement
from simulator.optimizer import enhance_prompt
from tests.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORIGINAL = "a lighthouse in fog"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_a_person_enhances_accepts_edits_and_generates(page, user, sim, start_worker) -> None:
    from playwright.sync_api import expect

    start_worker()
    log_in(page, user)

    button = page.locator("#enhance-button")
    expect(button).to_have_text("Enhance · $0.0010")
    expect(button).to_be_disabled()  # nothing to enhance yet
    prompt = page.locator("#id_prompt")
    prompt.fill(ORIGINAL)
    page.get_by_label("Enhancer style").select_option("photographic")
    button.click()

    # The suggestion arrives beside the original, with the added words marked.
    suggestion = enhance_prompt(ORIGINAL, "photographic")
    panel = page.locator("#enhancement")
    expect(panel.locator(".enhancement-suggestion")).to_have_text(suggestion, timeout=20_000)
    expect(panel.locator(".enhancement-original")).to_have_text(ORIGINAL)
    expect(panel.locator("ins").first).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "enhancer-suggestion.png"), full_page=True)

    # Discard leaves the prompt alone.
    page.locator("#enhance-discard").click()
    expect(page.locator("#enhancement")).to_have_count(0)
    expect(prompt).to_have_value(ORIGINAL)

    # Enhance again and accept: the suggestion becomes the prompt, the original is kept.
    button.click()
    page.locator("#enhance-accept").click()
    expect(prompt).to_have_value(suggestion)
    expect(page.locator("#id_prompt_original")).to_have_value(ORIGINAL)

    # A second round (on the enhanced prompt) with Edit keeps the very first original.
    page.get_by_label("Enhancer style").select_option("artistic")
    button.click()
    second = enhance_prompt(suggestion, "artistic")
    expect(page.locator(".enhancement-suggestion")).to_have_text(second, timeout=20_000)
    page.locator("#enhance-edit").click()
    expect(prompt).to_have_value(second)
    expect(prompt).to_be_focused()
    expect(page.locator("#id_prompt_original")).to_have_value(ORIGINAL)
    assert PromptEnhancement.objects.filter(owner=user, status="done").count() == 3

    page.get_by_role("button", name="Generate", exact=True).click()
    item = page.locator(".run").first
    expect(item.locator(".status")).to_have_attribute("data-status", "done", timeout=45_000)
    generation = Generation.objects.get(owner=user)
    assert (generation.prompt, generation.prompt_original) == (second, ORIGINAL)

    page.goto(f"/generations/{generation.uuid}/")
    expect(page.get_by_role("heading", name="Your prompt")).to_be_visible()
    expect(page.get_by_role("heading", name="Enhanced prompt")).to_be_visible()
    expect(page.locator("#prompt-original")).to_have_text(ORIGINAL)
