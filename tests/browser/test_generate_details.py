"""The Generate form's details in headless Chromium: Generate is off while the quote refuses the
run (the reason beside it), quick changes of the options leave a clean console, and an 11th
reference is refused as it is chosen or dropped, the ten kept.

Screenshots go to tests/output/screens/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from generations.models import Generation
from references.models import ReferenceImage
from spend.models import Budget
from tests.browser.test_reference_pages import DROP_FILES, b64
from tests.browser.test_studio_loop import screen
from tests.conftest import log_in
from tests.generations.reference_images import encoded, gradient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def console_errors(page) -> list[str]:
    """Every console error and uncaught exception from now on, as the page runs."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_generate_is_off_while_the_quote_refuses_the_run(page, user, pipeline) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.10"))  # three 1k images fit
    log_in(page, user)
    page.goto("/")
    page.get_by_label("Prompt").fill("A kite over the dunes")
    button = page.get_by_role("button", name=re.compile("^Generate"))
    expect(button).to_be_enabled()

    page.get_by_label("Number of images").fill("4")  # $0.112
    expect(button).to_be_disabled()
    refusal = page.locator("#quote-refusal")
    expect(refusal).to_contain_text("This run costs $0.11, but only $0.10 is left")
    assert button.get_attribute("aria-describedby") == "quote-refusal"
    screen(page, "first-run-refused")
    # Said once, beside the button.
    expect(page.get_by_text("but only $0.10 is left")).to_have_count(1)
    page.get_by_label("Prompt").press("Control+Enter")  # the shortcut is off too
    page.wait_for_timeout(300)
    assert Generation.objects.count() == 0

    page.get_by_label("Number of images").fill("3")  # $0.084 fits
    expect(button).to_be_enabled()
    expect(refusal).to_have_count(0)
    assert button.get_attribute("aria-describedby") is None

    page.locator("label.choice", has_text="4k").click()  # 3 × $0.056: refused again
    expect(button).to_be_disabled()
    page.locator("label.choice", has_text="1k").click()
    expect(button).to_be_enabled()

    # A run holds $0.084 of the $0.10: the quote follows, and the same run again is refused.
    button.click()
    expect(page.locator("#run-list .run")).to_have_count(1)
    expect(refusal).to_contain_text("only $0.02 is left")
    expect(button).to_be_disabled()
    assert Generation.objects.count() == 1


# Options changed faster than the quote answers: each change starts a request while the last
# is still in flight.
QUICK_CHANGES = """() => {
  const form = document.getElementById("generate-form");
  const radios = form.querySelectorAll("input[name=resolution]");
  const count = form.querySelector("#id_num_images");
  for (let i = 0; i < 12; i++) {
    const radio = radios[i % radios.length];
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    count.value = String(1 + (i % 3));
    count.dispatchEvent(new Event("change", { bubbles: true }));
  }
}"""


def test_changing_options_quickly_keeps_the_console_clean_and_the_quote_last(page, user) -> None:
    errors = console_errors(page)
    log_in(page, user)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    for _ in range(3):
        page.evaluate(QUICK_CHANGES)
        page.wait_for_load_state("networkidle")
    # The last change wins: 12th step, 4k (i = 11 → radios[2]) × 3 images.
    expect(page.locator("#quote")).to_contain_text("3 × 4k")
    page.wait_for_timeout(500)
    assert errors == []


def test_the_eleventh_reference_is_refused_as_it_is_chosen_or_dropped(page, user) -> None:
    log_in(page, user)
    page.goto("/")

    def picture(n: int) -> bytes:  # each its own: the same bytes twice make one reference
        return encoded(gradient((600 + n, 480)), "PNG")

    files = [
        {"name": f"ref-{n}.png", "mimeType": "image/png", "buffer": picture(n)}
        for n in range(1, 12)
    ]
    page.locator("#references input[type=file]").set_input_files(files)
    message = page.locator("#reference-tiles .is-error")
    # At once, before the ten are sent.
    expect(message).to_contain_text(
        "Kling takes at most 10 reference images: “ref-11.png” was not added."
    )
    tiles = page.locator("#reference-tiles .reference-tile:not(.is-error)")
    expect(tiles).to_have_count(10)
    expect(page.locator(".drop-busy")).to_be_hidden()
    assert ReferenceImage.objects.count() == 10  # the 11th never left the browser

    page.evaluate(
        DROP_FILES,
        [
            [
                ["late.png", "image/png", b64(picture(20))],
                ["later.png", "image/png", b64(picture(21))],
            ],
            "#reference-drop",
        ],
    )
    expect(message).to_have_count(1)  # the newer message replaces the older
    expect(message).to_contain_text(
        "“late.png” and 1 more were not added. Remove one to make room."
    )
    expect(tiles).to_have_count(10)
    page.wait_for_timeout(300)
    assert ReferenceImage.objects.count() == 10
    message.scroll_into_view_if_needed()
    screen(page, "first-run-eleventh-reference")

    # Room again after a removal.
    tiles.first.get_by_role("button", name="Remove ref-1.png").click()
    page.evaluate(DROP_FILES, [[["late.png", "image/png", b64(picture(20))]], "#reference-drop"])
    expect(tiles).to_have_count(10)
    expect(tiles.last).to_contain_text("late.png")


def test_a_series_has_no_count_to_give_and_switching_back_restores_it(page, user, pipeline) -> None:
    """Result type = series disables and empties "Number of images" with a note (the model
    chooses, up to 9); the quote holds 9 and the run sends no count; single gives it back."""
    log_in(page, user)
    page.goto("/")
    page.get_by_label("Prompt").fill("A kite over the dunes")
    count = page.get_by_label("Number of images")
    count.fill("4")
    note = page.locator("#series-note")
    expect(note).to_be_hidden()

    page.get_by_label("Result type").select_option("series")
    expect(count).to_be_disabled()
    expect(count).to_have_value("")
    expect(note).to_be_visible()
    expect(note).to_contain_text("up to 9")
    assert count.get_attribute("aria-describedby") == "series-note"
    expect(page.locator("#quote")).to_contain_text("per image delivered")
    screen(page, "series-count-disabled")

    page.get_by_label("Result type").select_option("single")
    expect(count).to_be_enabled()
    expect(count).to_have_value("4")
    expect(note).to_be_hidden()
    expect(page.locator("#quote")).to_contain_text("4 ×")

    page.get_by_label("Result type").select_option("series")
    page.get_by_role("button", name=re.compile("^Generate")).click()
    expect(page.locator("#run-list .run")).to_have_count(1)
    generation = Generation.objects.get()
    assert generation.result_type == "series"
    assert "num_images" not in generation.request_payload
