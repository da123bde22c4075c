"""Finding 6 of issue 12 (in part): no URL answers 500 to a hostile query string.

Every GET route of the project is taken from the URL resolver (the admin's too), its path
parameters filled with real objects' ids, and its query string fuzzed with hostile values:
huge and tiny dates, non-UUIDs, negative and huge numbers, unicode, NUL bytes, invalid UTF-8,
repeated keys, a 10 kB string. A 400, a 404 or a form error is fine; a 5xx never is.

Which names a view reads is recorded while it runs (every `get`, `getlist`, `[]` and `in` on a
QueryDict), so a name read only after another one (`table` after `format=csv`) is found and
fuzzed too; the admin's changelists read their query string wholesale, so theirs come from
their filters. Each name a view reads gets the values of its kind one at a time, then all of
them get each value together (ranges: from/to, start/end); the names other views read are sent
too, a few at a time. The site's time zone is one where both year 1 and year 9999 are far from
UTC, so a date that only overflows once it becomes a moment in UTC is found as well.

The owner tries every route of the apps; staff the admin (each changelist's filters with a few
values each, the pages every model shares with all names at once) and the staff pages; someone
signed out the public pages and a few that send them to the login.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import time
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.signals import got_request_exception
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode

from accounts.services import invitation_create, token_create
from gallery.services.sharing import share_create
from generations.models import PromptEnhancement
from generations.references import reference_create
from hooks.models import Delivery, Endpoint, Event
from projects.models import Role
from projects.services import invite_create
from tests.factories import add_member, image_bytes, make_element, make_image, make_project
from tests.spend.test_views import spend_run

pytestmark = pytest.mark.django_db

TEN_KB = "x" * 10_240
DATES = [
    "0001-01-01",
    "9999-12-31",
    "99999-01-01",
    "9999-12",
    "0001-01",
    "9999",
    "0",
    "0000-00-00",
    "2025-02-30",
    "-2025-01-01",
    "2025-13-01T25:61:61",
]
UUIDS = ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "{12345678-1234}", "0x1F"]
NUMBERS = ["-1", "0", "-99999999999999999999999", "99999999999999999999999", "1e308", "NaN"]
TEXT = [
    "",
    "ü✓\u202e💥 日本語",
    "\x00",
    "a\x00b",
    TEN_KB,
    "%",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "//evil.example",
]
EVERYTHING = [*DATES, *UUIDS, *NUMBERS, *TEXT]
# What no dict can say: invalid UTF-8, and a name without "=".
RAW = ["{name}=%ff%fe%fd", "{name}"]

DATE_PART_NAME = re.compile(r"__(year|month|day)$")  # the admin's date hierarchy
DATE_NAME = re.compile(r"(^|_)(from|to|start|end|month|date|day|year|at|gte|lt|lte|gt)$")
ID_NAME = re.compile(r"(^|_)(again|via|project|after|cursor|token|uuid|id|next|member)$")
NUMBER_NAME = re.compile(r"(^|_)(page|p|size|num_images|o|exact)$")

# The names the views and forms read (also found at run time), and what every app gets sent.
KNOWN_NAMES = [
    *("again", "project", "num_images", "resolution", "result_type", "aspect_ratio"),
    *("month", "start", "end", "format", "table", "download", "size", "via"),
    *("q", "author", "from", "to", "ratio", "status", "starred", "nsfw", "after"),
    *("next", "page", "cursor", "sort", "id", "uuid", "token", "o", "p"),
]


# Pago Pago was 12:37 ahead of UTC until 1892 and is 11 hours behind it now: in the site's time
# zone, both midnight of 0001-01-01 and the end of 9999-12-31 are moments no UTC datetime holds.
FAR_TIME_ZONE = "Pacific/Pago_Pago"


def values_for(name: str) -> list[str]:
    """Hostile values of the kind the name suggests, the worst first, and a few of the other
    kinds."""
    if DATE_PART_NAME.search(name):
        return ["9999", "0", "-1", "99999", "13", "32", *NUMBERS[2:], "", "\x00", TEN_KB]
    if DATE_NAME.search(name):
        return [*DATES, "-1", "99999999999999999999999", "\x00", TEN_KB, "ü✓\u202e💥"]
    if ID_NAME.search(name):
        return [*UUIDS, "-1", "99999999999999999999999", *TEXT[:6], "0001-01-01"]
    if NUMBER_NAME.search(name):
        return [*NUMBERS, "9999", "", "\x00", TEN_KB, "ü✓\u202e💥", "not-a-uuid"]
    return [*DATES[:2], *UUIDS[:1], *NUMBERS[:4], *TEXT]


def rotated(values: list[str], by: int) -> list[str]:
    by %= len(values)
    return values[by:] + values[:by]


# --- the world: one of each object a URL names, the owner viewing them ---------------------------


@dataclass
class World:
    owner: object
    staff: object
    ids: dict[str, dict[str, str]]  # route name → its path parameters
    api_token: str = ""
    staff_api_token: str = ""


@pytest.fixture
def world(django_user_model, user, staff) -> World:
    editor = django_user_model.objects.create_user("grace", password="pw-grace-123456")
    project = make_project(user, "Harbour")
    membership = add_member(project, editor, Role.EDITOR)
    image = make_image(user, project=project, prompt="a harbour at dawn")
    spend_run(user, project=project, charge="0.056")
    spend_run(user, charge=None, released=True, status="failed")
    generation = image.generation
    link = share_create(user=user, image=image, expires_in_days=None, show_prompt=True)
    element = make_element(user, project=project, preview=True)
    generation.element_links.create(element=element, position=0)
    reference = reference_create(owner=user, data=image_bytes(size=(640, 480)), name="ref.png")
    enhancement = PromptEnhancement.objects.create(
        owner=user, text="a kite", price=Decimal("0.001")
    )
    invite = invite_create(project=project, role=Role.VIEWER, created_by=user)
    invitation = invitation_create(created_by=staff)
    endpoint = Endpoint.objects.create(
        project=project, url="https://hooks.example.com/", events=[Event.BUDGET_80]
    )
    delivery = Delivery.objects.create(endpoint=endpoint, event=Event.BUDGET_80, payload={})

    # The API's routes are reached with the owner's token (every scope).
    api_token = token_create(user=user, name="fuzz", scopes=["read", "generate", "manage"])

    common = {
        "member": membership.uuid,
        "project": project.uuid,
        "batch": uuid_module.uuid4(),  # a batch of moves out that does not exist: 404
        "element": element.uuid,
        "delivery": delivery.uuid,
        "token": link.token,
        "size": 256,
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        # The admin's
        "id": user.pk,
        "app_label": "generations",
        "url": "nowhere/",
        "content_type_id": ContentType.objects.get_for_model(project).pk,
        "object_id": project.pk,
    }
    by_prefix = {  # the first part of the route → what its <uuid> is
        "api/v1/generations/": generation.uuid,
        "api/v1/projects/": project.uuid,
        "api/v1/images/": image.uuid,
        "accounts/profile/tokens/": api_token.token.uuid,
        "generations/": generation.uuid,
        "spend/review/": generation.uuid,
        "images/": image.uuid,
        "projects/": project.uuid,
        "spend/projects/": project.uuid,
        "elements/": element.uuid,
        "enhancements/": enhancement.uuid,
        "references/": reference.uuid,
        "notifications/": endpoint.uuid,
    }
    tokens = {
        "accounts:join": invitation.token,
        "projects:join": invite.token,
        "projects:invite_revoke": invite.token,
        "accounts:password_reset_confirm": default_token_generator.make_token(user),
    }
    ids = {}
    for route in all_routes():
        values = {**common}
        for prefix, uuid in by_prefix.items():
            if route.pattern.startswith(prefix):
                values["uuid"] = uuid
        if route.name in tokens:
            values["token"] = tokens[route.name]
        if model := admin_model(route):
            values["object_id"] = (
                model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            )
        ids[route.name] = {name: str(value) for name, value in values.items()}
    # Staff's token reaches the API's staff operation (the cost review's tables).
    staff_token = token_create(user=staff, name="fuzz", scopes=["read"])
    return World(
        owner=user,
        staff=staff,
        ids=ids,
        api_token=api_token.secret,
        staff_api_token=staff_token.secret,
    )


# --- the routes, from the resolver ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # namespaced; an unnamed admin redirect is named by its pattern
    pattern: str

    def path(self, values: dict[str, str]) -> str:
        """The URL with its parameters filled (regex groups and <converter:name> alike)."""
        path = self.pattern.replace("^", "").replace("$", "")
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m[1]], path)
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], path)


def _walk(patterns: Iterable, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name=name or pattern, pattern=pattern)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def admin_model(route: Route):
    for model in admin.site._registry:
        if route.pattern.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    return None


def changelist_admin(route: Route) -> admin.ModelAdmin | None:
    model = admin_model(route)
    if model is None:
        return None
    meta = model._meta
    is_changelist = route.name == f"admin:{meta.app_label}_{meta.model_name}_changelist"
    return admin.site._registry[model] if is_changelist else None


def admin_names(route: Route, staff) -> list[str]:
    """What an admin changelist reads from its query string: its filters' parameters and its
    date hierarchy's (Django's own search, order, page... are among KNOWN_NAMES or sampled)."""
    model_admin = changelist_admin(route)
    if model_admin is None:
        return []
    request = RequestFactory().get(route.path({}))
    request.user = staff
    names = [
        name
        for spec in model_admin.get_changelist_instance(request).filter_specs
        for name in spec.expected_parameters()
    ]
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return names


@functools.cache
def _api_query_names() -> dict[str, list[str]]:
    """Each API operation's query parameters, from its OpenAPI document, by its path. A ninja
    operation reads only the names a request holds, so a name it declares is never seen read
    from a bare request: each is fuzzed alone from here, as a page's are."""
    from api.api import api

    document = api.get_openapi_schema(path_prefix="/api/v1/")
    return {
        path: [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method == "get"
    }


def api_names(route: Route) -> list[str]:
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.pattern)
    return _api_query_names().get(path, []) if route.pattern.startswith("api/") else []


# --- the fuzzer ---------------------------------------------------------------------------------


class NamesRead:
    """Records the names looked up on any QueryDict."""

    def __init__(self, monkeypatch) -> None:
        self.names: set[str] = set()
        for method in ("get", "getlist", "__getitem__", "__contains__"):
            monkeypatch.setattr(QueryDict, method, self._recording(getattr(QueryDict, method)))

    def _recording(self, original: Callable) -> Callable:
        def recording(query_dict, key, *args, **kwargs):
            if isinstance(key, str):
                self.names.add(key)
            return original(query_dict, key, *args, **kwargs)

        return recording


# How hard a route is fuzzed: every value of each name (FULL), a few (a number), or all its
# names at once only (LIGHT: a page made by the same code as many others).
Depth = int | None | str
FULL: Depth = None
LIGHT: Depth = "light"


@dataclass
class Fuzzer:
    client: Client
    names_read: NamesRead
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (path, error) → query
    requests: int = 0
    fuzzed: list[str] = field(default_factory=list)
    _error: str = ""
    _htmx: Iterator[bool] = field(default_factory=lambda: itertools.cycle([False, True]))

    def get(self, path: str, query: str = "") -> set[str] | None:
        """The names the view read (None for a 405); a 5xx is kept (once per path and error)
        with its query."""
        self.names_read.names = set()
        self._error = ""
        headers = {"HX-Request": "true"} if next(self._htmx) else {}
        response = self.client.get(f"{path}?{query}" if query else path, headers=headers)
        self.requests += 1
        if response.streaming:  # read to its end, which closes the file (close() would also
            b"".join(response.streaming_content)  # close the test's database connection)
        if response.status_code >= 500:
            shown = query if len(query) <= 120 else f"{query[:120]}…({len(query)} characters)"
            self.failures.setdefault(
                (path, self._error.split(":")[0]),
                f"{response.status_code} {path}?{shown}  {self._error}",
            )
        return None if response.status_code == 405 else set(self.names_read.names)

    def on_exception(self, **kwargs) -> None:
        exc = sys.exc_info()[1]
        self._error = f"{type(exc).__name__}: {str(exc)[:160]}"

    def route(
        self, route: Route, ids: dict[str, str], *, seed: int, extra: list[str], depth: Depth
    ) -> None:
        path = route.path(ids)
        read = self.get(path)
        if read is None:
            return  # not a GET route: a POST-only action, or logout
        self.fuzzed.append(route.name)
        read |= set(extra)
        if depth is LIGHT:
            values = rotated(EVERYTHING, seed * 3)
            self.get(path, urlencode(dict(zip(sorted(read), itertools.cycle(values)))))
        else:
            self._each_alone(path, sorted(read), seed, per_name=depth)
        others = [name for name in KNOWN_NAMES if name not in read]
        for i in range(1 if depth is LIGHT else 2):
            values = rotated(EVERYTHING, seed * 5 + i * 11)
            self.get(path, urlencode(dict(zip(others, itertools.cycle(values)))))

    def _each_alone(self, path: str, names: list[str], seed: int, per_name: int | None) -> None:
        """Each name alone with each of its values (or the `per_name` worst), repeated and raw
        when all are tried; the names a request reads for the first time are queued too. Then
        all of them at once, value by value."""
        queue, done = list(names), []
        while queue:
            name = queue.pop(0)
            done.append(name)
            values = values_for(name)[:per_name]
            if name == "format":
                values = ["csv", *values]  # `table` is read only for a CSV
            read: set[str] = set()
            for value in values:
                read |= self.get(path, urlencode({name: value})) or set()
            if per_name is None:
                read |= self.get(path, urlencode({name: values[:3]}, doseq=True)) or set()
                for raw in RAW:
                    read |= self.get(path, raw.format(name=name)) or set()
            queue += sorted(read - set(done) - set(queue))
        if not done:
            return
        for value in rotated(EVERYTHING, seed)[: 12 if per_name is None else 6]:
            self.get(path, urlencode(dict.fromkeys(done, value)))
        for first, last in (("from", "to"), ("start", "end")):
            if first in done and last in done:
                for pair in itertools.product(DATES[:5], repeat=2):
                    self.get(path, urlencode(dict(zip((first, last), pair, strict=True))))

    def report(self, started: float) -> str:
        lines = "\n".join(self.failures.values())
        seconds = time.monotonic() - started
        summary = f"{len(self.failures)} kinds of 5xx in {self.requests} requests ({seconds:.0f} s)"
        return f"{summary}:\n{lines}"


@pytest.fixture
def fuzzer(monkeypatch) -> Iterator[Callable[..., Fuzzer]]:
    names_read = NamesRead(monkeypatch)
    made: list[Fuzzer] = []

    def on_exception(sender, **kwargs) -> None:
        for each in made:
            each.on_exception(**kwargs)

    got_request_exception.connect(on_exception)
    # The admin's navigation sidebar is most of an admin page's time and reads no query string.
    monkeypatch.setattr(admin.site, "enable_nav_sidebar", False)

    def make(user, api_token: str = "") -> Fuzzer:
        headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        client = Client(raise_request_exception=False, headers=headers)
        if user is not None:
            client.force_login(user)
        made.append(Fuzzer(client=client, names_read=names_read))
        return made[-1]

    yield make
    got_request_exception.disconnect(on_exception)


def fuzz(
    fuzzer: Fuzzer,
    world: World,
    routes: list[Route],
    depth: Callable[[Route], Depth] = lambda route: FULL,
) -> None:
    cpu = time.process_time()
    for seed, route in enumerate(routes):
        extra = admin_names(route, world.staff) + api_names(route)
        ids = world.ids[route.name]
        fuzzer.route(route, ids, seed=seed, extra=extra, depth=depth(route))
    cpu = time.process_time() - cpu
    print(f"{len(fuzzer.fuzzed)} GET routes, {fuzzer.requests} requests, {cpu:.1f} s of CPU")


# --- the tests ----------------------------------------------------------------------------------


# The owner's and staff's routes in two halves each (every other route), so that `make test`'s
# processes share them instead of one taking over a minute.
HALVES = [pytest.param(0, id="even"), pytest.param(1, id="odd")]


def owner_routes() -> list[Route]:
    return [r for r in all_routes() if not r.pattern.startswith("admin/")]


STAFF_PAGES = ("spend:review", "spend:review_thumbnail", "accounts:invite", "api-1:spend_review")


def staff_routes() -> list[Route]:
    return [r for r in all_routes() if r.pattern.startswith("admin/") or r.name in STAFF_PAGES]


# Pages that read their query string, which each test must reach with GET (not a 405).
OWNER_MUST = {
    "generations:generate",
    "gallery:gallery",
    "generations:quote",
    "gallery:image_original",
    "generations:reference_file",
    "elements:preview",
    "generations:generation_element_preview",
    "spend:mine",
    "spend:project",
    "projects:detail",
    "api-1:quote",
    "api-1:generations",
    "api-1:my_spend",
    "api-1:project_spend",
    "api-1:images",
    "api-1:image_original",
    "api-1:references",
}
STAFF_MUST = {
    "spend:review",
    "api-1:spend_review",
    "admin:index",
    "admin:generations_generation_changelist",
    "admin:generations_generation_change",
    "admin:spend_ledgerentry_changelist",
}


def test_the_routes_fuzzed_include_the_pages_that_read_query_strings() -> None:
    assert {route.name for route in owner_routes()} >= OWNER_MUST
    assert {route.name for route in staff_routes()} >= STAFF_MUST


def test_an_api_operations_query_parameters_are_each_fuzzed() -> None:
    routes = {route.name: route for route in owner_routes()}
    shared = {"cursor", "limit", "q", "project", "author", "ratio", "resolution", "from", "to"}
    filters = shared | {"status", "starred", "nsfw"}
    assert set(api_names(routes["api-1:generations"])) == filters
    assert set(api_names(routes["api-1:images"])) == filters
    assert "month" in api_names(routes["api-1:project_spend"])  # a path with a parameter


@pytest.mark.parametrize("half", HALVES)
def test_no_get_route_answers_500_to_the_owner(world: World, fuzzer, settings, half) -> None:
    settings.TIME_ZONE = FAR_TIME_ZONE
    settings.DARKROOM_API_REQUESTS_PER_MINUTE = 10**9
    started = time.monotonic()
    owner = fuzzer(world.owner, world.api_token)
    routes = owner_routes()[half::2]

    fuzz(owner, world, routes)

    assert not owner.failures, owner.report(started)
    assert OWNER_MUST & {route.name for route in routes} <= set(owner.fuzzed)


# Django's admin turns a typed date into a naive datetime, and says so.
@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")
@pytest.mark.parametrize("half", HALVES)
def test_no_get_route_answers_500_to_staff(world: World, fuzzer, settings, half) -> None:
    settings.TIME_ZONE = FAR_TIME_ZONE
    settings.DARKROOM_API_REQUESTS_PER_MINUTE = 10**9
    started = time.monotonic()
    staff = fuzzer(world.staff, world.staff_api_token)
    routes = staff_routes()[half::2]

    def depth(route: Route) -> Depth:
        if not route.pattern.startswith("admin/"):
            return FULL
        # Each changelist has its own filters; the add, change, delete and history pages are
        # the same code for every model.
        return 2 if changelist_admin(route) else LIGHT

    fuzz(staff, world, routes, depth)

    assert not staff.failures, staff.report(started)
    assert STAFF_MUST & {route.name for route in routes} <= set(staff.fuzzed)


SIGNED_OUT = (
    "login",
    "accounts:signup",
    "accounts:join",
    "accounts:password_reset",
    "accounts:password_reset_confirm",
    "projects:join",
    "gallery:shared_image",
    "gallery:shared_image_file",
    "gallery:gallery",
    "generations:generate",
    "spend:review",
    "admin:index",
    "admin:login",
)


def test_no_route_answers_500_to_someone_signed_out(world: World, fuzzer, settings) -> None:
    settings.TIME_ZONE = FAR_TIME_ZONE
    started = time.monotonic()
    anonymous = fuzzer(None)

    fuzz(anonymous, world, [r for r in all_routes() if r.name in SIGNED_OUT])

    assert not anonymous.failures, anonymous.report(started)
    assert set(anonymous.fuzzed) == set(SIGNED_OUT)
