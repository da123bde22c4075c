"""The light and the dark theme in a browser: both readable (WCAG AA text contrast, 3:1 for
the edges of inputs), the system's setting followed until a theme is chosen, the choice kept
from the first paint, and the admin in the same colours.

Contrast is measured from the rendered page: each element's text colour against the colour
actually behind it (its own and its ancestors' backgrounds, composited). Text drawn over a
picture is left out (it sits on a veil over the image, not on a theme colour). The figures of
the palette's key pairs go to tests/output/contrast.json, screenshots to
tests/output/screens/theme/."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from generations.models import OutputImage
from tests.conftest import log_in
from tests.factories import make_pictured_image
from tests.spend.test_views import spend_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(__file__).resolve().parents[1] / "output"
SHOTS = OUTPUT / "screens" / "theme"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
OTHER = {"light": "dark", "dark": "light"}

# Colours are read through a 1×1 canvas, so any CSS colour (rgb(), color(srgb …) from
# color-mix(), light-dark()) comes back as 8-bit sRGB.
MEASURE = """() => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgb(0 0 0 / 0)";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (!a) return [0, 0, 0, 0];
    const mix = [0, 1, 2].map((i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a);
    return [...mix, a];
  };
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (x, y) => {
    const [a, b] = [lum(x), lum(y)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  const media = [...document.querySelectorAll("img, video, canvas")]
    .map((el) => el.getBoundingClientRect()).filter((r) => r.width && r.height);
  const overMedia = (rect) => media.some((m) =>
    rect.left < m.right && rect.right > m.left && rect.top < m.bottom && rect.bottom > m.top);
  // What is painted behind `el`: its backgrounds and its ancestors', composited; null when a
  // gradient or image is among them (a veil over a picture).
  const behind = (el, skipOwn) => {
    const layers = [];
    for (let node = skipOwn ? el.parentElement : el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== "none") return null;
      const colour = rgba(style.backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const shown = (el) => {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    let opacity = 1;
    for (let node = el; node; node = node.parentElement) opacity *= +getComputedStyle(node).opacity;
    return opacity >= 1; // dimmed means disabled or inactive here, which 1.4.3 leaves out
  };
  const name = (el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/) : [];
    const id = el.id ? "#" + el.id : "";
    const words = (el.textContent || el.value || "").trim().slice(0, 40);
    const dotted = classes.map((c) => c && "." + c).join("");
    return `${el.tagName.toLowerCase()}${id}${dotted} "${words}"`;
  };

  const failures = [];
  let texts = 0, edges = 0;
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "OPTION", "OPTGROUP", "TITLE", "TEMPLATE"]);
  const CONTROLS = "input:not([type=hidden], [type=checkbox], [type=radio], [type=file], " +
    "[type=range]), select, textarea";
  for (const el of document.body.querySelectorAll("*")) {
    if (SKIP.has(el.tagName)) continue;
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const isControl = el.matches(CONTROLS);
    if (!ownText && !isControl) continue;
    if (!shown(el)) continue;
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height || overMedia(rect)) continue;
    const style = getComputedStyle(el);
    const back = behind(el, false);
    if (!back) continue;
    if (ownText || (isControl && (el.value || el.tagName === "SELECT"))) {
      const fg = over(rgba(el instanceof SVGElement ? style.fill : style.color), back);
      const size = parseFloat(style.fontSize), bold = +style.fontWeight >= 700;
      const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
      const r = ratio(fg, back);
      texts++;
      if (r < need) failures.push({ kind: "text", el: name(el), ratio: +r.toFixed(2), need });
    }
    if (isControl && parseFloat(style.borderTopWidth) > 0) {
      const outside = behind(el, true);
      const edge = over(rgba(style.borderTopColor), outside);
      const r = Math.min(ratio(edge, outside), ratio(edge, back));
      edges++;
      if (r < 3) failures.push({ kind: "edge", el: name(el), ratio: +r.toFixed(2), need: 3 });
    }
  }
  return { texts, edges, failures };
}"""

# The palette's key pairs, resolved in the page (so in its theme).
PAIRS = [
    ("text", "bg"),
    ("text", "panel"),
    ("muted", "panel"),
    ("muted", "panel-2"),
    ("accent-ink", "panel"),
    ("accent-ink", "bg"),
    ("accent-text", "accent"),
    ("bad", "panel"),
    ("ok", "panel"),
    ("warn", "panel"),
    ("info", "panel"),
    ("field-line", "panel"),
    ("field-line", "panel-2"),
    ("field-line", "bg"),
]
PALETTE = """(pairs) => {
  const probe = document.createElement("i");
  document.body.append(probe);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const read = (name) => {
    probe.style.color = `var(--${name})`;
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = getComputedStyle(probe).color;
    ctx.fillRect(0, 0, 1, 1);
    return [...ctx.getImageData(0, 0, 1, 1).data].slice(0, 3);
  };
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const out = {};
  for (const [fg, bg] of pairs) {
    const [a, b] = [lum(read(fg)), lum(read(bg))].sort((p, q) => q - p);
    out[`${fg} on ${bg}`] = +((a + 0.05) / (b + 0.05)).toFixed(2);
  }
  probe.remove();
  return out;
}"""


def studio_with_work(person) -> OutputImage:
    """Images in several shapes (the gallery, the studio's runs) and a month of spending; the
    newest picture."""
    shapes = [(1360, 768), (832, 1248), (1024, 1024), (1184, 896), (768, 1360), (1568, 672)]
    for n in range(12):
        make_pictured_image(
            person,
            size=shapes[n % len(shapes)],
            seed=n,
            prompt=f"a lighthouse on the cliffs at dusk, rain coming in, take {n}",
            created_at=timezone.now() - timedelta(minutes=n),
        )
    for n in range(6):
        spend_run(person, charge="0.056", at=timezone.now() - timedelta(days=n), prompt=f"run {n}")
    return (
        OutputImage.objects.filter(owner=person)
        .order_by("-created_at")
        .exclude(generation__prompt__startswith="run ")[0]
    )


def open_in_theme(browser, live_server, theme: str, *, system: str):
    context = browser.new_context(base_url=live_server.url, color_scheme=system)
    context.set_default_timeout(15_000)
    if theme != "auto":
        context.add_cookies([{"name": "theme", "value": theme, "url": live_server.url}])
    return context, context.new_page()


def body_background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_reads_well_in_both_themes(browser, live_server, staff, theme: str) -> None:
    newest = studio_with_work(staff)
    # The system asks for the other theme: the chosen one must win.
    context, page = open_in_theme(browser, live_server, theme, system=OTHER[theme])
    try:
        page.goto(reverse("login"))
        assert page.evaluate(MEASURE)["failures"] == []
        log_in(page, staff)
        pages = {
            "generate": reverse("generations:generate"),
            "gallery": reverse("gallery:gallery"),
            "image": reverse("gallery:image_detail", args=[newest.uuid]),
            "spend": reverse("spend:mine"),
            "review": reverse("spend:review"),
            "profile": reverse("accounts:profile"),
            "404": "/no-such-page/",
            "admin": reverse("admin:index"),
            "changelist": reverse("admin:generations_generation_changelist"),
        }
        problems, figures = {}, None
        for key, url in pages.items():
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                page.goto(url)
                page.wait_for_load_state("load")
                assert page.evaluate("document.documentElement.dataset.theme") == theme
                result = page.evaluate(MEASURE)
                assert result["texts"] > 5, (key, result)
                if result["failures"]:
                    problems[f"{key} {size}"] = result["failures"]
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"{key}-{theme}-{size}.png"))
            if key == "generate":
                figures = page.evaluate(PALETTE, PAIRS)
        assert not problems, json.dumps(problems, indent=1)

        OUTPUT.mkdir(parents=True, exist_ok=True)
        report = OUTPUT / "contrast.json"
        known = json.loads(report.read_text()) if report.exists() else {}
        known[theme] = figures
        report.write_text(json.dumps(known, indent=1))
        for pair, ratio in figures.items():
            need = 3 if pair.startswith(("field-line", "accent-text")) else 4.5
            assert ratio >= need, (theme, pair, ratio)
    finally:
        context.close()


def test_the_measure_finds_faint_text_and_faint_edges(page) -> None:
    page.goto(reverse("login"))
    assert page.evaluate(MEASURE)["failures"] == []
    page.evaluate("""() => {
      const card = document.querySelector(".card");
      const faint = document.createElement("p");
      faint.textContent = "too faint";
      faint.style.color = "color-mix(in srgb, var(--panel) 70%, var(--text))";
      const input = document.createElement("input");
      input.value = "edge";
      input.style.borderColor = "var(--line)";
      card.append(faint, input);
    }""")

    failures = page.evaluate(MEASURE)["failures"]

    found = {(f["kind"], f["el"].split(" ")[0]) for f in failures}
    assert found == {("text", "p"), ("edge", "input")}


@pytest.mark.parametrize("system", ["light", "dark"])
def test_without_a_choice_the_page_follows_the_system(browser, live_server, system: str) -> None:
    context, page = open_in_theme(browser, live_server, "auto", system=system)
    try:
        page.goto(reverse("login"))
        background = body_background(page)
        assert background == ("rgb(244, 243, 241)" if system == "light" else "rgb(17, 18, 20)")
        expect_pressed(page, "System")
    finally:
        context.close()


def expect_pressed(page, label: str) -> None:
    pressed = page.locator(".theme-switch [aria-pressed=true]")
    assert pressed.count() == 1
    assert pressed.inner_text().strip() == label


def test_the_switch_applies_at_once_and_the_next_page_starts_in_it(
    browser, live_server, user
) -> None:
    context, page = open_in_theme(browser, live_server, "auto", system="dark")
    try:
        log_in(page, user)
        assert body_background(page) == "rgb(17, 18, 20)"

        page.get_by_role("button", name="Light").click()

        assert body_background(page) == "rgb(244, 243, 241)"  # no page load
        expect_pressed(page, "Light")
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert cookies["theme"] == "light"
        assert page.evaluate("localStorage.getItem('theme')") == "light"

        # The next page comes from the server already light: the attribute is in its HTML.
        response = page.goto(reverse("gallery:gallery"))
        assert 'data-theme="light"' in response.text()
        expect_pressed(page, "Light")

        page.get_by_role("button", name="System").click()
        assert body_background(page) == "rgb(17, 18, 20)"
        assert {c["name"]: c["value"] for c in context.cookies()}["theme"] == "auto"
    finally:
        context.close()


def test_the_switch_works_without_javascript(browser, live_server) -> None:
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, color_scheme="light"
    )
    try:
        page = context.new_page()
        page.goto(reverse("login"))
        page.get_by_role("button", name="Dark").click()
        page.wait_for_url("**/login/")
        assert page.locator("html").get_attribute("data-theme") == "dark"
        assert page.locator(".theme-switch [aria-pressed=true]").inner_text().strip() == "Dark"
    finally:
        context.close()


def test_the_admin_wears_the_chosen_theme_and_its_toggle_changes_it(
    browser, live_server, staff
) -> None:
    context, page = open_in_theme(browser, live_server, "dark", system="light")
    try:
        log_in(page, staff)
        page.goto(reverse("admin:index"))
        assert body_background(page) == "rgb(17, 18, 20)"  # Darkroom's dark --bg
        assert page.evaluate("localStorage.getItem('theme')") == "dark"
        assert page.locator("#site-name").inner_text().strip() == "Darkroom"
        assert "Darkroom admin" in page.title()

        page.locator("#header button.theme-toggle").click()  # the admin's own: dark → light

        assert body_background(page) == "rgb(244, 243, 241)"
        assert {c["name"]: c["value"] for c in context.cookies()}["theme"] == "light"
        response = page.goto(reverse("generations:generate"))
        assert 'data-theme="light"' in response.text()
    finally:
        context.close()


@pytest.mark.urls("tests.config.test_error_pages")
def test_the_500_page_takes_the_theme_from_the_cookie(browser, live_server) -> None:
    # Django renders the 500 page without the request, so no server read the cookie:
    # theme.js, blocking in the head, applies it before the first paint.
    context, page = open_in_theme(browser, live_server, "light", system="dark")
    try:
        response = page.goto("/boom/")
        assert response.status == 500
        assert 'data-theme="auto"' in response.text()
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        assert body_background(page) == "rgb(244, 243, 241)"
        assert page.get_by_role("heading", name="Something went wrong on our side").is_visible()
    finally:
        context.close()
