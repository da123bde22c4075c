"""The security headers on every page: a Content-Security-Policy with a nonce and nothing
inline, a Permissions-Policy, and `Cache-Control: no-store` on whatever a signed-in person gets.

Every GET route of the URL resolver is opened by the owner of a project that holds one of
everything (a generation with its image, reference and element, a share link, invitations, an
enhancer use), as a full page and as an htmx request; the admin's pages separately.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Invitation
from accounts.services import token_create
from elements.models import GenerationElement
from gallery.services.sharing import share_create
from generations.models import GenerationReference, PromptEnhancement
from generations.references import reference_create
from hooks.models import Delivery, Event
from hooks.services import endpoint_create
from projects import services as project_services
from projects.models import Role
from tests.factories import add_member, image_bytes, make_element, make_image, make_project

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NO_STORE = "no-store, private"
IMMUTABLE = "private, max-age=31536000, immutable"
PERMISSIONS_POLICY = (
    "browsing-topics=(), camera=(), geolocation=(), interest-cohort=(), microphone=(), "
    "payment=(), usb=()"
)


# --- Reading a page ---------------------------------------------------------------------------


class Markup(HTMLParser):
    """What a policy without 'unsafe-inline' cares about in a page or a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.is_document = False
        self.scripts: list[dict[str, str | None]] = []
        self.style_blocks: list[dict[str, str | None]] = []
        self.handlers: list[str] = []  # "tag on…" for each inline event handler
        self.style_attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.is_document = True
        elif tag == "script":
            self.scripts.append(found)
        elif tag == "style":
            self.style_blocks.append(found)
        self.handlers += [f"<{tag} {name}>" for name in found if name.startswith("on")]
        if "style" in found:
            self.style_attributes.append(f"<{tag} style={found['style']!r}>")


def markup(html: str) -> Markup:
    parser = Markup()
    parser.feed(html)
    parser.close()
    return parser


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']}: no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def nonce_of(directives: dict[str, list[str]]) -> str | None:
    for value in directives.get("script-src", []):
        if match := re.fullmatch(r"'nonce-([A-Za-z0-9+/=]+)'", value):
            return match.group(1)
    return None


def problems_in(html: str, nonce: str | None) -> list[str]:
    """Everything in `html` that the policy would refuse: scripts neither ours nor carrying the
    page's nonce, inline handlers, style blocks and style attributes."""
    page = markup(html)
    found = []
    for script in page.scripts:
        if (script.get("type") or "").lower() == "application/json":
            continue  # a data block (the API reference's settings): never run, so not policed
        src = script.get("src") or ""
        ours = src.startswith("/") and not src.startswith("//")
        if src and not ours:
            found.append(f"a script from elsewhere: {src}")
        elif not src and (nonce is None or script.get("nonce") != nonce):
            found.append(f"an inline script without the page's nonce: {script}")
        elif script.get("nonce") is not None and script.get("nonce") != nonce:
            found.append(f"a script with another nonce: {script}")
    found += [f"an inline handler: {h}" for h in page.handlers]
    found += [f"a <style> block: {s}" for s in page.style_blocks]
    found += [f"a style attribute: {s}" for s in page.style_attributes]
    return found


def test_the_reader_finds_what_the_policy_refuses() -> None:
    """The checks below can fail: each kind of inline code is found, and our own files pass."""
    html = (
        '<html><head><script src="/static/js/a.js"></script>'
        '<script src="/static/b.js" nonce="abc"></script>'
        '<script src="https://cdn.example/x.js"></script><script>alert(1)</script>'
        '<script nonce="abc">ok()</script><style>p{}</style>'
        '<script type="application/json" id="settings">{"a": 1}</script></head>'
        '<body><a href="#" onclick="x()">a</a><img src="/x.png" onerror="y()">'
        '<p style="color:red">p</p><svg><text text-anchor="middle">1</text></svg></body></html>'
    )
    assert problems_in(html, "abc") == [
        "a script from elsewhere: https://cdn.example/x.js",
        "an inline script without the page's nonce: {}",
        "an inline handler: <a onclick>",
        "an inline handler: <img onerror>",
        "a <style> block: {}",
        "a style attribute: <p style='color:red'>",
    ]
    assert problems_in('<script nonce="abc">ok()</script>', None) == [
        "an inline script without the page's nonce: {'nonce': 'abc'}"
    ]


# --- The owner's world ------------------------------------------------------------------------


@dataclass
class World:
    owner: object
    kwargs: dict[str, dict[str, object]] = field(default_factory=dict)
    extra_urls: list[str] = field(default_factory=list)


@pytest.fixture
def world(django_user_model, settings) -> World:
    """A staff owner (so the staff pages open too) of a project holding one of everything."""
    settings.DARKROOM_OPEN_SIGNUP = True  # so the sign-up page is there to look at
    owner = django_user_model.objects.create_superuser(
        "olga", "olga@example.com", password="pw-olga-123456"
    )
    editor = django_user_model.objects.create_user("ed", password="pw-ed-123456")
    project = make_project(owner, "Harbour")
    membership = add_member(project, editor, Role.EDITOR)
    image = make_image(owner, project=project, prompt="a lighthouse at dusk")
    generation = image.generation
    reference = reference_create(owner=owner, name="ref.png", data=image_bytes(size=(640, 480)))
    GenerationReference.objects.create(generation=generation, reference=reference, position=1)
    element = make_element(owner, project=project, preview=True)
    GenerationElement.objects.create(generation=generation, element=element, position=1)
    enhancement = PromptEnhancement.objects.create(
        owner=owner, text="a lighthouse", price=Decimal("0.001")
    )
    share = share_create(user=owner, image=image, expires_in_days=None, show_prompt=True)
    invitation = Invitation.objects.create(
        created_by=owner, expires_at=timezone.now() + timedelta(days=7)
    )
    project_invite = project_services.invite_create(
        project=project, role=Role.VIEWER, created_by=owner
    )
    endpoint = endpoint_create(
        by=owner,
        project=project,
        url="https://hooks.example.com/darkroom",
        description="the team's chat",
        events=[Event.GENERATION_FINISHED],
        format="json",
    )
    delivery = Delivery.objects.create(
        endpoint=endpoint, event=Event.GENERATION_FINISHED, payload={"type": "test"}
    )
    by_endpoint = {"uuid": endpoint.uuid}
    by_image = {"uuid": image.uuid}
    by_generation = {"uuid": generation.uuid}
    by_project = {"uuid": project.uuid}
    by_element = {"uuid": element.uuid}
    kwargs = {
        "generations:generation_detail": by_generation,
        "gallery:generation_move": by_generation,
        "generations:run": by_generation,
        "generations:generation_again": by_generation,
        "gallery:image_trash": by_image,
        "gallery:image_restore": by_image,
        "gallery:image_detail": by_image,
        "gallery:image_move": by_image,
        "gallery:image_original": by_image,
        "gallery:image_thumbnail": {**by_image, "size": 256},
        "gallery:image_share": by_image,
        "gallery:share_revoke": {**by_image, "token": share.token},
        "gallery:image_favourite": by_image,
        "generations:enhancement": {"uuid": enhancement.uuid},
        "generations:reference_file": {"uuid": reference.uuid},
        "generations:reference_unpick": {"uuid": reference.uuid},
        "generations:image_use_as_reference": by_image,
        "gallery:shared_image": {"token": share.token},
        "gallery:shared_image_file": {"token": share.token},
        "accounts:join": {"token": invitation.token},
        "accounts:password_reset_confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
            "token": default_token_generator.make_token(owner),
        },
        "projects:join": {"token": project_invite.token},
        "projects:detail": by_project,
        "projects:settings": by_project,
        "projects:trail": by_project,
        "projects:moves_undo": {**by_project, "batch": uuid.uuid4()},  # none such: a 404
        "projects:archive": by_project,
        "projects:invite_create": by_project,
        "projects:invite_revoke": {**by_project, "token": project_invite.token},
        "projects:member_role": {**by_project, "member": membership.uuid},
        "projects:member_remove": {**by_project, "member": membership.uuid},
        "spend:review_thumbnail": by_generation,
        "spend:project": by_project,
        "spend:project_budget": by_project,
        "elements:create_in_project": {"project": project.uuid},
        "elements:create_on_kling_in_project": {"project": project.uuid},
        "elements:card": by_element,
        "elements:edit": by_element,
        "elements:archive": by_element,
        "elements:preview": by_element,
        "generations:generation_element_preview": {**by_generation, "element": element.uuid},
        **{
            f"hooks:{name}": by_endpoint
            for name in ("detail", "edit", "delete", "rotate", "resume", "test")
        },
        "hooks:resend": {**by_endpoint, "delivery": delivery.uuid},
        "accounts:token_revoke": {
            "uuid": token_create(user=owner, name="script", scopes=["read"]).token.uuid
        },
        "api-1:project": by_project,
        "api-1:members": by_project,
        "api-1:project_spend": by_project,
        "api-1:generation": by_generation,
        "api-1:retry_generation": by_generation,
        "api-1:cancel_generation": by_generation,
        **{
            f"api-1:{name}": by_image
            for name in (
                "image",
                "image_original",
                "image_star",
                "image_unstar",
                "image_move",
                "image_trash",
            )
        },
        "api-1:image_restore": by_image,
        "api-1:image_thumbnail": {**by_image, "size": 256},
    }
    extra_urls = [
        reverse("generations:generate") + f"?again={generation.uuid}",
        reverse("gallery:gallery") + "?status=trash",
        reverse("gallery:gallery") + f"?project={project.uuid}&starred=1",
        reverse("spend:review") + "?table=runs",
    ]
    return World(owner=owner, kwargs=kwargs, extra_urls=extra_urls)


def routes() -> list[tuple[str, list[str]]]:
    """(namespaced name, path parameters) of every route but the admin's."""
    found = []

    def walk(patterns, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((namespace + entry.name, list(entry.pattern.converters)))

    walk(get_resolver().url_patterns, "")
    return found


def urls_of(world: World) -> list[str]:
    urls = []
    for name, parameters in routes():
        if parameters:
            assert name in world.kwargs, f"{name}: say how to fill {parameters} in `world`"
            urls.append(reverse(name, kwargs=world.kwargs[name]))
        else:
            urls.append(reverse(name))
    return urls + world.extra_urls


def test_every_route_is_opened() -> None:
    names = {name for name, _ in routes()}
    # The enumeration reaches every app, the public share page and Django's own views.
    assert {"gallery:gallery", "gallery:shared_image", "login"} <= names
    assert {"projects:settings", "spend:review", "elements:library", "accounts:invite"} <= names


# --- Content-Security-Policy ------------------------------------------------------------------


def test_the_policy_allows_only_our_own_origin() -> None:
    from django.conf import settings

    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for name in ("default-src", "connect-src", "base-uri", "form-action", "style-src"):
        assert directives[name] == ["'self'"], name
    for name in ("object-src", "frame-ancestors"):
        assert directives[name] == ["'none'"], name
    assert "'unsafe-inline'" not in str(directives) and "'unsafe-eval'" not in str(directives)


@pytest.mark.parametrize(
    ("endpoint_url", "region"),
    [
        (None, None),
        (None, "eu-central-1"),
        ("https://s3.example.test", "eu-west-1"),
        ("http://127.0.0.1:9000", None),
        ("https://fra1.digitaloceanspaces.com", "fra1"),
    ],
)
def test_img_src_allows_the_origin_s3_media_redirects_to(endpoint_url, region) -> None:
    """The media views redirect to the storage's signed URLs (config/media.py): whatever
    django-storages signs must be an origin that base.py puts in img-src."""
    from storages.backends.s3 import S3Storage

    from config.settings.base import s3_media_origins

    storage = S3Storage(
        bucket_name="darkroom-media",
        endpoint_url=endpoint_url,
        region_name=region,
        access_key="AKIAEXAMPLEEXAMPLE00",
        secret_key="test-only-secret-key",
        default_acl="private",
        querystring_auth=True,
    )
    signed = urlsplit(storage.url("thumbnails/ab/abcdef.webp", expire=300))
    origins = s3_media_origins("darkroom-media", endpoint_url, region)
    assert f"{signed.scheme}://{signed.netloc}" in origins
    assert s3_media_origins("", endpoint_url, region) == []


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_every_page_has_a_nonce_and_nothing_inline_without_it(client, world, htmx) -> None:
    client.force_login(world.owner)
    headers = {"HX-Request": "true"} if htmx else {}
    opened = []
    for url in urls_of(world):
        response = client.get(url, headers=headers)
        if response.status_code == 405:
            continue  # a POST-only route
        directives = policy(response)
        assert directives["script-src"][0] == "'self'", url
        assert response.get("Permissions-Policy") == PERMISSIONS_POLICY, url
        # Pages, partials and redirects: nothing signed-in is stored. Image files checked
        # against the viewer's rights keep their own private, immutable caching.
        if getattr(response, "keeps_cache_control", False):
            assert response.get("Cache-Control") in (IMMUTABLE, "private, max-age=300"), url
        else:
            assert response.get("Cache-Control") == NO_STORE, url
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        nonce = nonce_of(directives)
        own_page = "/s/" not in url and not url.startswith("/api/")
        if markup(html).is_document and response.status_code == 200 and own_page:
            # Every page of the app has its nonce (base.html's htmx script carries it). The
            # public share page and Django's plain error pages run no script, so need none;
            # the API's reference page (swagger-ui) runs only script files of ours.
            assert nonce, f"{url}: no nonce in {directives['script-src']}"
        assert problems_in(html, nonce) == [], url
        opened.append((url, response.status_code))
    pages = [url for url, status in opened if status == 200]
    # Not a handful of error pages: the real pages were there to look at.
    assert len(pages) >= (12 if htmx else 25), opened


def test_the_public_share_page_has_the_policy_and_no_script(client, world) -> None:
    url = reverse("gallery:shared_image", kwargs=world.kwargs["gallery:shared_image"])
    response = client.get(url)
    assert response.status_code == 200
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert markup(response.content.decode()).scripts == []
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


@pytest.mark.parametrize(
    "name", ["login", "accounts:signup", "accounts:password_reset", "accounts:join"]
)
def test_pages_for_people_signed_out_have_the_policy_and_its_nonce(client, world, name) -> None:
    kwargs = world.kwargs.get(name)
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    nonce = nonce_of(policy(response))
    assert nonce
    assert problems_in(response.content.decode(), nonce) == []


def admin_urls() -> list[str]:
    """Each registered model's list, add form and change form (of its first row, if any)."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        urls.append(reverse("admin:{}_{}_add".format(*info)))
        first = model.objects.first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return urls


def test_every_admin_page_has_the_policy_and_nothing_inline(client, world) -> None:
    client.force_login(world.owner)
    checked = 0
    for url in admin_urls():
        response = client.get(url)
        if response.status_code in {403, 404}:
            continue  # read-only models have no add form
        assert response.status_code == 200, url
        assert problems_in(response.content.decode(), nonce_of(policy(response))) == [], url
        checked += 1
    assert checked >= 20


def test_no_template_holds_inline_code() -> None:
    """Templates the page walk above may not reach (error branches, mails in HTML): no handler,
    no script without a source, no style."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        page = markup(text)
        assert page.handlers == [], path
        assert page.style_blocks == [] and page.style_attributes == [], path
        for script in page.scripts:
            if script.get("type") == "application/json":
                continue  # a data block (the API reference's settings): never run
            assert script.get("src"), f"{path}: an inline <script>"


# --- Cache-Control ----------------------------------------------------------------------------


def test_signed_in_pages_are_not_stored_files_stay_private_and_a_share_keeps_its_caching(
    client, world
) -> None:
    share = world.kwargs["gallery:shared_image"]
    page = reverse("gallery:shared_image", kwargs=share)
    file = reverse("gallery:shared_image_file", kwargs=share)
    # Signed out: the share page is never cached (its view says so), its image for 5 minutes.
    assert "no-store" in client.get(page)["Cache-Control"]
    assert client.get(file)["Cache-Control"] == "private, max-age=300"
    # Signed in, the page around the person is stored nowhere; files only in their browser.
    client.force_login(world.owner)
    assert client.get(page)["Cache-Control"] == NO_STORE
    assert client.get(file)["Cache-Control"] == "private, max-age=300"
    original = reverse("gallery:image_original", kwargs=world.kwargs["gallery:image_detail"])
    response = client.get(original)
    assert response.status_code == 200
    assert response["Cache-Control"] == IMMUTABLE


def test_the_answer_to_a_login_is_not_stored_and_a_logout_is_left_alone(client, world) -> None:
    response = client.post(
        reverse("login"), {"username": "olga", "password": "pw-olga-123456"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 302 and "/login/" not in response["Location"]
    assert response["Cache-Control"] == NO_STORE
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.get("Cache-Control") != NO_STORE


def test_signed_out_pages_keep_their_own_headers(client, world) -> None:
    """The middleware adds nothing for people signed out: a page without a view's caching
    header still has none."""
    response = client.get(reverse("accounts:join", kwargs=world.kwargs["accounts:join"]))
    assert response.status_code == 200
    assert "Cache-Control" not in response
