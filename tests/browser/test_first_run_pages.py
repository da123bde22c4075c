"""A first visit in headless Chromium, at 1440×900 and on a 390×844 phone: example prompts fill
the Generate form, and empty pages show the next step and no idle controls.

Screenshots go to tests/output/screens/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from generations.examples import EXAMPLES
from tests.browser import test_studio_loop
from tests.browser.test_studio_loop import no_sideways_scroll, screen
from tests.conftest import log_in
from tests.factories import make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

device = test_studio_loop.device  # (name, page) at 1440×900 and on a 390×844 phone


def console_errors(page) -> list[str]:
    """Every console error and uncaught exception from now on, as the page runs."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_a_new_person_starts_from_an_example(device, user) -> None:
    name, page = device
    errors = console_errors(page)
    log_in(page, user)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    screen(page, f"first-run-generate-{name}")
    screen(page, f"first-run-generate-{name}-full", full=True)
    assert no_sideways_scroll(page)
    example = next(e for e in EXAMPLES if e.key == "product")
    cards = page.locator(".runs-empty .example-card")
    chips = page.locator("#examples .example-chip")
    if name == "desktop":
        # Beside the form, the examples are cards in the empty results, not chips too.
        expect(cards).to_have_count(len(EXAMPLES))
        expect(page.locator("#examples")).to_be_hidden()
        cards.filter(has_text="Product shot").click()
    else:
        # On a phone the results are far below: the chips sit open under the prompt.
        expect(cards.first).to_be_hidden()
        expect(chips.first).to_be_visible()
        chips.filter(has_text="Product shot").click()

    prompt = page.locator("#id_prompt")
    expect(prompt).to_have_value(example.prompt)
    expect(prompt).to_be_focused()
    expect(page.locator("#id_aspect_ratio")).to_have_value("1:1")
    expect(page.locator("#id_num_images")).to_have_value("4")
    expect(page.locator("input[name=resolution][value='1k']")).to_be_checked()
    expect(page.locator("#quote")).to_contain_text("4 × 1k")  # the quote followed
    assert page.url.endswith("/") and "example=" not in page.url  # filled in place
    screen(page, f"first-run-example-picked-{name}")

    # Another example replaces the settings; a series says so.
    if name == "desktop":
        cards.filter(has_text="Storybook series").click()
    else:
        chips.filter(has_text="Storybook series").click()
    expect(page.locator("#id_result_type")).to_have_value("series")
    expect(page.locator("#id_aspect_ratio")).to_have_value("3:2")
    expect(page.locator("#quote")).to_contain_text("per image delivered")
    assert errors == []


def test_the_empty_pages_show_the_next_step_and_no_idle_controls(device, user) -> None:
    name, page = device
    harbour = make_project(user, "Harbour")
    log_in(page, user)

    page.goto("/gallery/")
    expect(page.get_by_role("heading", name="Your gallery is empty")).to_be_visible()
    expect(page.get_by_role("search")).to_have_count(0)  # nothing to search or filter
    expect(page.locator(".bulk-bar")).to_be_hidden()
    expect(page.get_by_role("link", name="Generate your first image")).to_be_in_viewport()
    assert no_sideways_scroll(page)
    screen(page, f"first-run-gallery-{name}")

    page.goto("/elements/")
    expect(page.get_by_text("No elements yet.")).to_be_visible()
    expect(page.get_by_text("builds one from a front view").first).to_be_visible()
    assert no_sideways_scroll(page)
    screen(page, f"first-run-elements-{name}", full=True)

    page.goto("/spend/")
    expect(page.get_by_role("heading", name="Nothing spent yet")).to_be_visible()
    expect(page.get_by_label("Month")).to_have_count(0)
    assert no_sideways_scroll(page)
    screen(page, f"first-run-spend-{name}")

    page.goto(f"/projects/{harbour.uuid}/")
    expect(page.get_by_role("heading", name="No images in Harbour yet")).to_be_visible()
    expect(page.get_by_role("link", name="Search and filter")).to_have_count(0)
    assert no_sideways_scroll(page)
    screen(page, f"first-run-project-{name}")
    page.get_by_role("link", name="Generate in Harbour").click()
    expect(page.get_by_label("Project")).to_have_value(str(harbour.uuid))
