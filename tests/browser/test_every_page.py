"""Every page a person can reach, at two phone widths and a desktop one, in the dark and the light
colour scheme (WALKS: which width with which scheme): none scrolls sideways, each has exactly one
<h1>, its first focusable element is a skip link that lands in the content, and axe-core finds no
serious or critical violation.

Each walk is one test: it builds one world of realistic data (a second or two), and
one browser context walks the signed-out pages, signs in as staff and walks the rest. Every
problem is collected before the test fails, so one run lists them all; the time each part took
is printed (run with -s), and `-k 390-light` picks one.
`test_every_named_url_is_walked_or_explained` keeps the page list honest: a URL added to a
urlconf must be walked here or say why not.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.conftest import log_in

# The walks: each theme through axe once, the light one at a phone's width and the dark one at
# a desktop's (the themes change colours, not layout; widths change layout, not colours), and
# 360 px, the narrowest phone, for the layout checks alone: the file stays near a minute.
WALKS = [
    pytest.param(360, 740, "dark", False, id="360-dark"),
    pytest.param(390, 844, "light", True, id="390-light"),
    pytest.param(1440, 900, "dark", True, id="1440-dark"),
]
# Each walk in two halves (every other page), so that `make test`'s processes share the walks
# evenly instead of one process taking a minute and a half on one.
HALVES = [pytest.param(0, id="even"), pytest.param(1, id="odd")]
SHOTS = Path(__file__).resolve().parents[1] / "output" / "screens" / "every-page"

# Named URLs that are not pages: actions (POST only), files, htmx partials and JSON polls, each
# reached through a page that is walked. Admin URLs other than those walked are Django's own.
NOT_PAGES = {
    "logout": "POST only",
    "accounts:theme": "POST only: the theme switch without JavaScript",
    "generations:quote": "htmx partial of the Generate form",
    "generations:recent": "htmx partial",
    "gallery:generation_move": "POST only",
    "wavespeed:webhook": "POST only: WaveSpeed's signed deliveries",
    "gallery:gallery_author_options": "htmx partial: the Filters panel's authors",
    "generations:generation_element_preview": "an image file",
    "generations:runs_active": "JSON poll",
    "generations:run": "htmx partial of a run card",
    "generations:generation_again": "POST only",
    "gallery:image_trash": "POST only",
    "gallery:image_restore": "POST only",
    "gallery:image_move": "POST only",
    "gallery:image_original": "the image file",
    "gallery:image_thumbnail": "an image file",
    "gallery:image_share": "POST only",
    "gallery:share_revoke": "POST only",
    "gallery:image_favourite": "POST only",
    "gallery:bulk_zip": "POST only",
    "gallery:bulk_move": "POST only",
    "gallery:bulk_trash": "POST only",
    "gallery:bulk_restore": "POST only",
    "generations:enhance": "POST only",
    "generations:enhancement": "htmx partial of the enhancer",
    "generations:reference_upload": "POST only",
    "generations:reference_file": "an image file",
    "generations:reference_unpick": "POST only",
    "generations:image_use_as_reference": "POST only",
    "gallery:shared_image_file": "the shared image file",
    "elements:card": "htmx partial",
    "elements:archive": "POST only",
    "elements:preview": "an image file",
    "projects:archive": "POST only",
    "projects:invite_create": "POST only",
    "projects:invite_revoke": "POST only",
    "projects:member_role": "POST only",
    "projects:member_remove": "POST only",
    "spend:review_thumbnail": "an image file",
    "spend:project_budget": "POST only",
    "hooks:delete": "POST only",
    "hooks:rotate": "POST only",
    "hooks:resume": "POST only",
    "hooks:test": "POST only",
    "hooks:resend": "POST only",
    "accounts:token_create": "POST only: the profile page's token form (its answer shows the "
    "secret once; tests/api/test_tokens.py)",
    "accounts:token_revoke": "POST only",
    # The JSON API (tests/api/): JSON, not pages; its reference page is django-ninja's
    # swagger-ui, checked by tests/browser/test_api_docs_page.py.
    "api-1:api-root": "the API's root: JSON",
    "api-1:openapi-json": "the API's OpenAPI document (JSON)",
    "api-1:openapi-view": "swagger-ui's reference page (tests/browser/test_api_docs_page.py)",
    "api-1:quote": "JSON API",
    "api-1:create_element": "JSON API",
    "api-1:spend_review": "JSON API",
    "api-1:projects": "JSON API",
    "api-1:project": "JSON API",
    "api-1:members": "JSON API",
    "api-1:project_spend": "JSON API",
    "api-1:my_spend": "JSON API",
    "api-1:elements": "JSON API",
    "api-1:create_generation": "JSON API",
    "api-1:generations": "JSON API",
    "api-1:generation": "JSON API",
    "api-1:images": "JSON API",
    "api-1:image": "JSON API",
    "api-1:image_original": "JSON API",
    "api-1:image_thumbnail": "JSON API",
    "api-1:image_star": "JSON API",
    "api-1:image_unstar": "JSON API",
    "api-1:image_move": "JSON API",
    "api-1:image_trash": "JSON API",
    "api-1:image_restore": "JSON API",
    "api-1:retry_generation": "JSON API",
    "api-1:cancel_generation": "JSON API",
    "api-1:references": "JSON API",
    "api-1:upload_references": "JSON API",
}


# Pages photographed (full length, at 390 and 1440 px, each scheme) for a person to look at.
SHOOT = {
    "generations:generate",
    "gallery:image_detail",
    "projects:settings",
    "spend:review",
    "audit:trail",
    "admin:audit_entry_changelist",
    "admin:projects_project_change",
}


@dataclass
class Page:
    name: str  # the URL's name, or a label for a variant of one
    url: str
    signed_in: bool = True
    status: int | None = None  # an error page's own answer; others answer below 400 or 410


def named_urls() -> set[str]:
    """Every named URL of the app's urlconfs (the admin's apart)."""
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                inner = entry.namespace or namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(f"{namespace}:{entry.name}" if namespace else entry.name)

    walk(get_resolver().url_patterns, None)
    return names


def build_world(django_user_model) -> list[Page]:
    """A studio in use: a staff person who owns a project with members, images (one NSFW, one
    starred, one trashed, one moved out), runs done and failed, spend, budgets, share links
    (one revoked), elements, invitations and the audit entries all of that leaves."""
    from accounts.services import invitation_create, invitations_revoke
    from gallery.services.favourites import favourite_set
    from gallery.services.moving import image_move, moves_out_of
    from gallery.services.sharing import share_create, share_revoke
    from gallery.services.trash import images_trash
    from generations.models import ErrorKind, Generation, Status
    from hooks.models import Delivery, DeliveryStatus, Endpoint, Event, Format
    from projects.models import Role
    from projects.services import invite_create, member_set_role
    from spend.models import Budget
    from spend.money import CENT
    from spend.services import month_of, spent
    from tests.factories import add_member, make_element, make_pictured_image, make_project
    from tests.spend.test_views import spend_run

    staff = django_user_model.objects.create_superuser(
        "root", "root@example.com", password="pw-root-123456"
    )
    alice = django_user_model.objects.create_user(
        "alice", "alice@example.com", password="pw-alice-123456"
    )
    bob = django_user_model.objects.create_user("bob", password="pw-bob-123456")
    harbour = make_project(staff, "Harbour at night, a long project name for a phone")
    elsewhere = make_project(staff, "Elsewhere")
    alices = make_project(alice, "Alice's studio")
    add_member(harbour, alice, Role.EDITOR)
    membership = add_member(harbour, bob, Role.VIEWER)
    member_set_role(membership=membership, role=Role.EDITOR, by=staff)
    # API tokens on the profile page: one used, one limited to a project, one revoked.
    from accounts.services import token_create, token_used, tokens_revoke

    used = token_create(user=staff, name="Nightly catalogue", scopes=["read", "generate"]).token
    token_used(token=used, address="203.0.113.7")
    token_create(user=staff, name="DAM export", scopes=["read"], project_id=harbour.pk)
    old = token_create(user=staff, name="Old laptop", scopes=["read", "manage"]).token
    tokens_revoke(tokens=[old], by=staff)

    prompts = [
        "a lighthouse in a storm, seen from the cliffs at dusk, long exposure, 35 mm film",
        "a tugboat in the harbour at dawn, fog over the water",
        "portrait of a fisherman mending nets, soft window light",
        "a night market under paper lanterns, wet cobblestones",
    ]
    sizes = [(768, 512), (512, 768), (640, 640), (896, 384)]
    images = [
        make_pictured_image(
            staff, size=sizes[n], seed=n, prompt=prompts[n], project=harbour if n % 2 else None
        )
        for n in range(4)
    ]
    nsfw = make_pictured_image(staff, size=(512, 640), seed=7, prompt="flagged", nsfw=True)
    favourite_set(user=staff, image=images[0], starred=True)
    trashed = make_pictured_image(staff, size=(640, 480), seed=9, prompt="an unwanted take")
    images_trash(user=staff, images=[trashed])
    moved = make_pictured_image(staff, size=(640, 480), seed=11, project=harbour, prompt="moved")
    image_move(user=staff, image=moved, target=elsewhere)
    batch = moves_out_of(project=harbour)[0]

    failed = Generation.objects.create(
        owner=staff,
        project=harbour,
        prompt="a run that WaveSpeed refused",
        status=Status.FAILED,
        request_payload={"prompt": "a run that WaveSpeed refused"},
        price_per_image=Decimal("0.028"),
        quoted_cost=Decimal("0.028"),
        error_kind=ErrorKind.PROVIDER,
        error_code=400,
        error_message="The prompt was flagged by the provider's content filter.",
    )
    now = timezone.now()
    for n in range(8):
        spend_run(
            staff,
            project=harbour if n % 2 else None,
            charge=str(Decimal("0.028") * (n % 4 + 1)),
            at=now - timedelta(days=n * 3),
            prompt=f"a lighthouse in a storm, take {n}",
        )
    # The staff person is at 85 % of their own budget, so the budget banner shows wherever it
    # can (the Generate page above all) and is checked with everything else.
    used = spent(period=month_of(now), person_id=staff.pk)
    Budget.objects.create(person=staff, monthly_limit=(used / Decimal("0.85")).quantize(CENT))
    Budget.objects.create(project=harbour, monthly_limit=Decimal("20"))

    live = share_create(user=staff, image=images[0], expires_in_days=None, show_prompt=True)
    revoked = share_create(user=staff, image=images[1], expires_in_days=7, show_prompt=False)
    share_revoke(user=staff, link=revoked)

    element = make_element(staff, project=harbour, name="Captain Reyes", preview=True)
    make_element(staff, name="Lantern", preview=True)
    invitation = invitation_create(created_by=staff, email="new@example.com")
    used_up = invitation_create(created_by=staff)
    invitations_revoke(invitation_ids=[used_up.pk])
    project_invite = invite_create(project=alices, role=Role.EDITOR, created_by=alice)
    invite_create(project=harbour, role=Role.VIEWER, created_by=staff)
    endpoint = Endpoint.objects.create(
        project=harbour,
        url="https://hooks.slack.com/services/T000/B000/a-long-token-for-a-phone",
        description="The team's #renders channel",
        events=[Event.GENERATION_FINISHED, Event.BUDGET_80, Event.BUDGET_100],
        format=Format.SLACK,
        created_by=staff,
        paused_at=now,
        paused_reason="Every delivery failed for a day: paused until an owner resumes it.",
    )
    for n, (status, code, error) in enumerate(
        [
            (DeliveryStatus.SUCCEEDED, 200, ""),
            (DeliveryStatus.FAILED, 500, "HTTP 500: upstream unavailable"),
            (DeliveryStatus.PENDING, None, "The receiver did not answer in time"),
        ]
    ):
        Delivery.objects.create(
            endpoint=endpoint,
            event=Event.GENERATION_FINISHED,
            payload={},
            status=status,
            attempts=n + 1,
            response_code=code,
            duration_ms=120 * (n + 1),
            error=error,
            next_attempt_at=now + timedelta(seconds=40)
            if status == DeliveryStatus.PENDING
            else None,
        )
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    reset_token = default_token_generator.make_token(alice)

    out = [
        Page("login", "/login/", signed_in=False),
        Page("accounts:locked_out", "locked-out", signed_in=False),
        Page("accounts:signup", "/accounts/signup/", signed_in=False),
        Page("accounts:join", f"/accounts/join/{invitation.token}/", signed_in=False),
        Page("accounts:join (unusable)", f"/accounts/join/{used_up.token}/", signed_in=False),
        Page("accounts:password_reset", "/accounts/password/reset/", signed_in=False),
        Page("accounts:password_reset_done", "/accounts/password/reset/sent/", signed_in=False),
        Page(
            "accounts:password_reset_confirm",
            f"/accounts/password/reset/{uid}/{reset_token}/",
            signed_in=False,
        ),
        Page(
            "accounts:password_reset_complete",
            "/accounts/password/reset/complete/",
            signed_in=False,
        ),
        Page("gallery:shared_image", f"/s/{live.token}/", signed_in=False),
        Page("gallery:shared_image (gone)", f"/s/{revoked.token}/", signed_in=False),
        Page("404 (signed out)", "/no-such-page/", signed_in=False, status=404),
        Page("projects:join (signed out)", f"/projects/join/{project_invite.token}/", False),
    ]
    pages = [
        Page("generations:generate", "/"),
        Page("generations:generate (again)", f"/?again={images[0].generation.uuid}"),
        Page("gallery:gallery", "/gallery/"),
        Page("gallery:gallery (starred)", "/gallery/?starred=1"),
        Page("gallery:gallery (trash)", "/gallery/?status=trash"),
        Page("gallery:gallery (project)", f"/gallery/?project={harbour.uuid}"),
        Page("generations:generation_detail", f"/generations/{images[0].generation.uuid}/"),
        Page("generations:generation_detail (failed)", f"/generations/{failed.uuid}/"),
        Page("gallery:image_detail", f"/images/{images[0].uuid}/"),
        Page("gallery:image_detail (nsfw)", f"/images/{nsfw.uuid}/"),
        Page("elements:library", "/elements/"),
        Page("elements:create", "/elements/new/"),
        Page("elements:create_in_project", f"/elements/projects/{harbour.uuid}/new/"),
        Page("elements:create_on_kling", "/elements/new/kling/"),
        Page(
            "elements:create_on_kling_in_project", f"/elements/projects/{harbour.uuid}/new/kling/"
        ),
        Page("elements:edit", f"/elements/{element.uuid}/edit/"),
        Page("projects:list", "/projects/"),
        Page("projects:detail", f"/projects/{harbour.uuid}/"),
        Page("projects:settings", f"/projects/{harbour.uuid}/settings/"),
        Page("projects:trail", f"/projects/{harbour.uuid}/trail/"),
        Page("projects:moves_undo", f"/projects/{harbour.uuid}/moves/{batch.batch}/undo/"),
        Page("projects:join", f"/projects/join/{project_invite.token}/"),
        Page("spend:mine", "/spend/"),
        Page("spend:review", "/spend/review/"),
        Page("spend:project", f"/spend/projects/{harbour.uuid}/"),
        Page("audit:trail", "/audit/"),
        Page("hooks:list", "/notifications/"),
        Page("hooks:create", "/notifications/new/"),
        Page("hooks:detail", f"/notifications/{endpoint.uuid}/"),
        Page("hooks:edit", f"/notifications/{endpoint.uuid}/edit/"),
        Page("404 (signed in)", "/no-such-page/", status=404),
        Page("accounts:profile", "/accounts/profile/"),
        Page("accounts:invite", "/accounts/invite/"),
        Page("accounts:password_change", "/accounts/password/"),
        Page("accounts:password_change_done", "/accounts/password/changed/"),
        Page("admin:index", "/admin/"),
        Page("admin:generations_generation_changelist", "/admin/generations/generation/"),
        Page("admin:generations_outputimage_changelist", "/admin/generations/outputimage/"),
        Page("admin:spend_ledgerentry_changelist", "/admin/spend/ledgerentry/"),
        Page("admin:spend_budget_add", "/admin/spend/budget/add/"),
        Page("admin:audit_entry_changelist", "/admin/audit/entry/"),
        Page("admin:auth_user_changelist", "/admin/auth/user/"),
        Page("admin:projects_project_changelist", "/admin/projects/project/"),
        Page(
            "admin:generations_generation_change",
            f"/admin/generations/generation/{images[0].generation.pk}/change/",
        ),
        Page("admin:auth_user_change", f"/admin/auth/user/{alice.pk}/change/"),
        Page("admin:projects_project_change", f"/admin/projects/project/{harbour.pk}/change/"),
    ]
    return out + pages


# --- What each page must do ---------------------------------------------------------------------

# The innermost elements reaching past the right edge: what to fix when a page is too wide.
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
  .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 4)
  .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
    + ` ${Math.round(el.getBoundingClientRect().right)}`)"""

# The first element Tab reaches from the top of the page (in document order: no page here uses
# a positive tabindex), and whether it is a skip link to an element of the page.
FIRST_FOCUS = """() => {
  const all = [...document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex]')];
  const el = all.find(e => e.tabIndex >= 0 && !e.disabled && e.type !== 'hidden'
    && e.checkVisibility({visibilityProperty: true}));
  if (!el) return null;
  const href = el.getAttribute('href') || '';
  return {
    text: el.textContent.trim(),
    href,
    target: href.startsWith('#') && Boolean(document.getElementById(href.slice(1))),
  };
}"""

# Where focus is, and whether the focused element shows inside the viewport.
FOCUSED = """() => {
  const el = document.activeElement;
  const box = el.getBoundingClientRect();
  return {
    text: el.textContent.trim(),
    visible: box.width > 1 && box.height > 1 && box.left >= 0 && box.top >= 0
      && box.right <= innerWidth,
  };
}"""

LANDED = """() => { const t = document.getElementById(location.hash.slice(1));
  return Boolean(t) && (t === document.activeElement || t.contains(document.activeElement)); }"""

# ARIA id references that point at nothing (axe checks only some attributes, and only that one
# of several ids exists), live regions inside live regions (announced twice, or not at all), and
# tile checkboxes without their image's name.
ARIA = """() => {
  const broken = [];
  for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls', 'aria-owns']) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) broken.push(`${attr}=${id}`);
      }
    }
  }
  const live = '[role=status], [role=alert], [role=log], [aria-live]';
  const nested = [...document.querySelectorAll(live)]
    .filter(el => el.parentElement && el.parentElement.closest(live))
    .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
  // A tile's checkbox is named after its image: "Select <the start of its prompt>".
  const unnamed = [...document.querySelectorAll('input[type=checkbox].pick')]
    .filter(box => !/^Select \\S/.test(box.getAttribute('aria-label') || ''))
    .map(box => box.value);
  return {broken, nested, unnamed};
}"""


# axe-core as axe-playwright-python bundles it, put into every page of the context before the
# page's own scripts (an init script: not subject to the Content-Security-Policy, and not sent
# over again for each page), then run on the whole document.
AXE_RUN = "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"


def check(page, clock: Counter[str] | None = None, *, with_axe: bool = True) -> list[str]:
    """What is wrong with the page the browser is on (axe's findings unless `with_axe` is off)."""
    clock = Counter() if clock is None else clock
    began = time.monotonic()
    problems = []
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    if scroll > inner:
        problems.append(f"overflow: {scroll} px at {inner} px: {page.evaluate(WIDE)}")
    headings = page.locator("h1").count()
    if headings != 1:
        problems.append(f"h1: {headings}")
    problems += skip_link_problems(page)
    aria = page.evaluate(ARIA)
    if aria["broken"]:
        problems.append(f"ids referenced but missing: {aria['broken']}")
    if aria["unnamed"]:
        problems.append(f"tile checkboxes not named after their image: {aria['unnamed']}")
    if aria["nested"]:
        problems.append(f"live regions inside live regions: {aria['nested']}")
    clock["checks"] += time.monotonic() - began
    if not with_axe:
        return problems
    began = time.monotonic()
    violations = page.evaluate(AXE_RUN)
    clock["axe"] += time.monotonic() - began
    for violation in violations:
        if violation["impact"] in ("serious", "critical"):
            where = [node["target"][0] for node in violation["nodes"][:3]]
            problems.append(f"axe {violation['id']} ({violation['impact']}): {where}")
    return problems


def skip_link_problems(page) -> list[str]:
    """The first focusable element is a skip link, shown when Tab reaches it, and Enter on it
    moves the focus into its target. A page with nothing to focus needs none."""
    first = page.evaluate(FIRST_FOCUS)
    if first is None:
        return []
    if not (first["target"] and "skip" in first["text"].lower()):
        return [f"skip link: first focusable is {first}"]
    if page.evaluate("document.activeElement === document.body"):
        page.keyboard.press("Tab")  # a real Tab, unless the page put the focus somewhere itself
    else:
        page.locator(f'a[href="{first["href"]}"]').first.focus()
    focused = page.evaluate(FOCUSED)
    if "skip" not in focused["text"].lower() or not focused["visible"]:
        return [f"skip link: Tab reached {focused}"]
    page.keyboard.press("Enter")
    if not page.evaluate(LANDED):
        return ["skip link: Enter did not move the focus to its target"]
    return []


def lock_out(page) -> None:
    """Fail to log in as a name nobody has until the lockout page answers."""
    for _ in range(8):
        page.goto("/login/")
        page.get_by_label("Username").fill("nobody-at-all")
        page.get_by_label("Password").fill("wrong-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        if page.locator("h1", has_text="Too many").count():
            return
    raise AssertionError("the lockout page never answered")


def visit(page, entry: Page) -> None:
    if entry.url == "locked-out":
        lock_out(page)
    else:
        response = page.goto(entry.url, wait_until="domcontentloaded")
        assert response is not None
        if entry.status is not None:
            assert response.status == entry.status, f"{entry.name} answered {response.status}"
        else:
            assert response.status < 500 and response.status not in (403, 404), (
                f"{entry.name} answered {response.status}"
            )
    # DOMContentLoaded can come before the stylesheets of a page without scripts: measure the
    # page as it is drawn, with every stylesheet applied.
    page.wait_for_function(
        "[...document.querySelectorAll('link[rel=stylesheet]')].every((link) => link.sheet)"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("half", HALVES)
@pytest.mark.parametrize(("width", "height", "scheme", "with_axe"), WALKS)
def test_every_page_fits_has_one_h1_a_skip_link_and_passes_axe(
    browser, live_server, django_user_model, settings, width, height, scheme, with_axe, half
) -> None:
    from axe_playwright_python.base import AXE_FILE_PATH

    settings.DARKROOM_OPEN_SIGNUP = True
    started = time.monotonic()
    world = build_world(django_user_model)[half::2]
    staff = django_user_model.objects.get(username="root")
    problems: dict[str, list[str]] = defaultdict(list)
    clock: Counter[str] = Counter({"data": time.monotonic() - started})
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}, color_scheme=scheme
    )
    context.set_default_timeout(15_000)
    context.add_init_script(path=AXE_FILE_PATH)
    page = context.new_page()
    signed_in = False
    for entry in world:
        if entry.signed_in and not signed_in:
            log_in(page, staff)
            signed_in = True
        began = time.monotonic()
        visit(page, entry)
        clock["visit"] += time.monotonic() - began
        for problem in check(page, clock, with_axe=with_axe):
            problems[entry.name].append(problem)
        if entry.name == "generations:generate" and not page.locator(".budget-banner li").count():
            problems[entry.name].append("no budget banner: the data puts staff at 85 % of a cap")
        if entry.name in SHOOT and width in (390, 1440):
            SHOTS.mkdir(parents=True, exist_ok=True)
            name = entry.name.replace(":", "-")
            page.screenshot(path=str(SHOTS / f"{name}-{width}-{scheme}.png"), full_page=True)
    context.close()
    rules = Counter(
        problem.split()[1] for found in problems.values() for problem in found if "axe " in problem
    )
    print(
        f"\n{len(world)} pages at {width}x{height}, {scheme}: {time.monotonic() - started:.1f} s"
        f" ({', '.join(f'{k} {v:.1f} s' for k, v in clock.items())});"
        f" axe serious/critical by rule: {dict(rules)}"
    )
    report = "\n".join(f"{where}: {'; '.join(found)}" for where, found in sorted(problems.items()))
    assert not problems, f"{len(problems)} pages with problems at {width} {scheme}:\n{report}"


@pytest.mark.django_db
def test_every_named_url_is_walked_or_explained(django_user_model) -> None:
    walked = {entry.name.split(" (")[0] for entry in build_world(django_user_model)}
    missing = named_urls() - walked - set(NOT_PAGES)
    assert not missing, f"walk these pages too, or say in NOT_PAGES why not: {sorted(missing)}"
    assert not set(NOT_PAGES) - named_urls(), "NOT_PAGES names a URL that no longer exists"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_navigation_folds_into_a_menu_on_a_phone(browser, live_server, staff) -> None:
    """At 390 px the links hide behind Menu, which opens and closes them (Escape too, giving the
    focus back); at 1440 px they all show and there is no Menu. Screenshots of both, closed and
    open, go to tests/output/screens/every-page/."""
    from playwright.sync_api import expect

    from tests.factories import make_pictured_image

    for n in range(6):
        make_pictured_image(staff, size=(768, 512) if n % 2 else (512, 768), seed=n)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1440, 900)):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        page = context.new_page()
        log_in(page, staff)
        page.goto("/gallery/")
        nav = page.get_by_role("navigation", name="Main")
        menu = page.get_by_role("button", name="Menu", exact=True)
        if width > 900:
            expect(menu).to_be_hidden()
            expect(nav.get_by_role("link", name="Cost review")).to_be_visible()
            page.screenshot(path=str(SHOTS / f"nav-{width}.png"))
            context.close()
            continue
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(nav).to_be_hidden()
        top = page.locator("header.topbar").bounding_box()
        assert top is not None and top["height"] < 70  # one line: brand and Menu
        page.screenshot(path=str(SHOTS / f"nav-{width}-closed.png"))
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name="Gallery")).to_have_attribute("aria-current", "page")
        expect(nav.get_by_role("button", name="Log out")).to_be_visible()
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width
        page.screenshot(path=str(SHOTS / f"nav-{width}-open.png"))
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()
        menu.press("Enter")
        nav.get_by_role("link", name="Projects").click()
        page.wait_for_url("**/projects/")
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # closed on arrival
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_checks_catch_what_they_look_for(browser, live_server) -> None:
    """The checks fail a page that breaks each rule: a wide element, a second h1, a skip link
    that is not first, an id reference to nothing, a live region in a live region, a tile
    checkbox without its image's name, and an image without a text alternative (axe: image-alt,
    critical)."""
    from axe_playwright_python.base import AXE_FILE_PATH

    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.add_init_script(path=AXE_FILE_PATH)
    page = context.new_page()
    page.goto("/login/", wait_until="domcontentloaded")
    assert check(page) == []
    page.evaluate(
        """() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', `<h1>Second</h1>
          <div id="wide">wide</div>
          <p aria-describedby="nowhere">described</p>
          <div aria-live="polite"><p role="status">twice</p></div>
          <input type="checkbox" class="pick" value="tile-1" aria-label="Select ">
          <img src="/static/none.png" width="20" height="20">`);
        document.getElementById('wide').style.width = '900px';  // CSSOM: allowed by the CSP
        document.body.insertAdjacentHTML('afterbegin', '<a href="/">first</a>');
      }"""
    )
    found = " | ".join(check(page))
    for expected in (
        "overflow:",
        "h1: 2",
        "skip link: first focusable",
        "aria-describedby=nowhere",
        "live regions inside live regions",
        "not named after their image: ['tile-1']",
        "axe image-alt (critical)",
    ):
        assert expected in found, f"{expected!r} not in {found}"
    context.close()
