"""The element picker in headless Chromium: insert a name, the live warning, the limit of three,
and only the chosen project's elements offered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from elements.models import GenerationElement
from generations.models import Generation
from tests.conftest import log_in
from tests.factories import make_element, make_project

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picking_elements_in_the_form(page, user, pipeline) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)

    project = make_project(user, "Harbour")
    for name in ("Mira", "Old Boat", "Red Kite", "Blue Door"):
        make_element(user, name=name, preview=True)
    make_element(user, project=project, name="Harbour Cat")

    log_in(page, user)
    expect(page.get_by_role("heading", name="Generate with Kling Image O3")).to_be_visible()

    picker = page.locator("[data-element-picker]")
    warning = picker.locator("[data-element-warning]")
    # Personal is chosen: the project's element is not offered.
    expect(picker.get_by_text("Harbour Cat")).to_be_hidden()
    page.get_by_label("Project").select_option(label="Harbour")
    expect(picker.get_by_text("Harbour Cat")).to_be_visible()
    page.get_by_label("Project").select_option(label="Personal")

    prompt = page.locator("#id_prompt")
    prompt.fill("A portrait at dawn")
    picker.get_by_role("checkbox", name="Mira").check()
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("“Mira”")
    page.screenshot(path=str(SHOTS / "elements-picker.png"), full_page=True)
    # "Insert name" writes it at the cursor (here: after "A portrait").
    prompt.evaluate("el => el.setSelectionRange(10, 10)")
    picker.get_by_role("button", name="Insert name “Mira”").click()
    expect(prompt).to_have_value("A portrait Mira at dawn")
    expect(warning).to_be_hidden()

    # Three at most: the fourth box is disabled once three are ticked.
    picker.get_by_role("checkbox", name="Old Boat").check()
    picker.get_by_role("checkbox", name="Red Kite").check()
    expect(picker.get_by_role("checkbox", name="Blue Door")).to_be_disabled()
    picker.get_by_role("checkbox", name="Red Kite").uncheck()
    expect(picker.get_by_role("checkbox", name="Blue Door")).to_be_enabled()

    # Submitting with an unnamed element warns again, and the generation is made anyway.
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#studio-notice")).to_contain_text(
        re.compile("The prompt never names the element “Old Boat”")
    )
    generation = Generation.objects.get()
    names = [
        link.element.name
        for link in GenerationElement.objects.filter(generation=generation).select_related(
            "element"
        )
    ]
    assert names == ["Mira", "Old Boat"]
    assert generation.prompt == "A portrait Mira at dawn"

    page.goto("/elements/")
    expect(page.get_by_role("heading", name="Personal")).to_be_visible()
    page.screenshot(path=str(SHOTS / "elements-library.png"), full_page=True)
