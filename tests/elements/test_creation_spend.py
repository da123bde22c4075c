"""Issue 12, finding 6: “Create on Kling” had no price, hold, charge, budget check or rate limit.

A creation is paid like any call to the provider: quoted on the form, held under the same
budgets as a generation, charged when Kling creates the element, released when it fails,
refused over a budget or past the hourly limit. Its price is the one staff set (WaveSpeed
publishes none); tests/conftest.py sets $0.0500, as staff would."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from elements.models import Creation, Element
from references.models import ReferenceImage
from spend.models import Budget, EntryKind, LedgerEntry, Price
from spend.published import KLING_ELEMENTS
from tests.elements.test_create_on_kling import create_on_kling, run_element_tasks
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db

PRICE = Decimal("0.050")


def entries(element: Element) -> dict[str, Decimal]:
    return dict(LedgerEntry.objects.filter(element=element).values_list("kind", "amount"))


def test_creating_an_element_on_kling_is_quoted_held_and_charged(
    client, user, sim, pipeline
) -> None:
    client.force_login(user)
    form = client.get(reverse("elements:create_on_kling")).content.decode()
    assert "Creating it costs <strong>$0.05</strong>" in form

    create_on_kling(client)
    element = Element.objects.get()
    assert element.price == PRICE
    assert entries(element) == {EntryKind.HOLD: PRICE}
    hold = LedgerEntry.objects.get(element=element)
    assert (hold.person, hold.project) == (user, None)

    element = run_element_tasks(pipeline, element)

    assert element.creation == Creation.DONE
    assert element.cost == PRICE
    assert entries(element) == {
        EntryKind.HOLD: PRICE,
        EntryKind.RELEASE: PRICE,
        EntryKind.CHARGE: PRICE,
    }
    html = client.get(reverse("spend:mine")).content.decode()
    assert 'id="month-total">$0.05<' in html
    assert "Elements created on Kling" in html


def test_a_failed_creation_releases_its_hold(client, user, sim, pipeline) -> None:
    sim.fault("fail_prediction", model="kwaivgi/kling-elements", code=1401, error="Bad views")
    client.force_login(user)
    create_on_kling(client)
    element = run_element_tasks(pipeline, Element.objects.get())
    assert element.creation == Creation.FAILED
    assert element.cost == 0
    assert entries(element) == {EntryKind.HOLD: PRICE, EntryKind.RELEASE: PRICE}


def test_the_sweeper_giving_up_releases_the_hold(client, user, sim, pipeline) -> None:
    from wavespeed import runner

    client.force_login(user)
    create_on_kling(client)
    element = Element.objects.get()
    Element.objects.filter(pk=element.pk).update(created_at=timezone.now() - timedelta(hours=2))
    runner.sweep()
    assert entries(element) == {EntryKind.HOLD: PRICE, EntryKind.RELEASE: PRICE}


def test_over_the_persons_budget_it_is_refused_like_a_run(client, user, sim, pipeline) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.03"))
    client.force_login(user)
    refusal = escape(
        "Creating an element on Kling costs $0.05, but only $0.03 is left of your monthly "
        "budget ($0.03 a month). Ask an admin to raise it."
    )
    form = client.get(reverse("elements:create_on_kling")).content.decode()
    assert refusal in form and "disabled>Create on Kling" in form

    response = create_on_kling(client)

    assert response.status_code == 200
    html = response.content.decode()
    assert refusal in html and "Captain Mira" in html  # said, and the form kept
    assert not Element.objects.exists()
    assert not ReferenceImage.objects.exists()  # nothing stored before the refusal
    assert not LedgerEntry.objects.exists()
    assert pipeline.names() == []
    assert not sim.posts("/api/v3/kwaivgi/kling-elements")


def test_the_projects_budget_applies_to_its_elements(client, user, sim, pipeline) -> None:
    project = make_project(user, "Harbour")
    Budget.objects.create(project=project, monthly_limit=Decimal("0.01"))
    client.force_login(user)
    response = create_on_kling(
        client, reverse("elements:create_on_kling_in_project", args=[project.uuid])
    )
    html = response.content.decode()
    assert "only $0.01 is left of the monthly budget of Harbour" in html
    assert "Ask an admin or a project owner to raise it." in html
    assert not Element.objects.exists()


def test_an_editor_pays_for_a_project_element_from_their_own_budget(
    client, user, outsider, sim, pipeline
) -> None:
    project = make_project(outsider, "Harbour")
    add_member(project, user, "editor")
    client.force_login(user)
    create_on_kling(client, reverse("elements:create_on_kling_in_project", args=[project.uuid]))
    hold = LedgerEntry.objects.get()
    assert (hold.person, hold.project, hold.amount) == (user, project, PRICE)


def test_without_a_price_set_it_is_refused(client, user, sim, pipeline) -> None:
    Price.objects.filter(model=KLING_ELEMENTS).delete()
    client.force_login(user)
    message = "Creating elements on Kling has no price set, so it cannot be paid for"
    assert message in client.get(reverse("elements:create_on_kling")).content.decode()
    assert message in create_on_kling(client).content.decode()
    assert not Element.objects.exists()


def test_each_person_may_create_a_few_elements_an_hour(
    client, user, outsider, sim, pipeline, settings
) -> None:
    settings.DARKROOM_ELEMENT_CREATIONS_PER_HOUR = 2
    client.force_login(user)
    for name in ("One", "Two"):
        assert create_on_kling(client, name=name).status_code == 302

    response = create_on_kling(client, name="Three")

    first = Element.objects.get(name="One")
    next_at = timezone.localtime(first.created_at + timedelta(hours=1))
    assert (
        "You have asked Kling for 2 elements in the past hour, the most Darkroom allows. "
        f"You can create the next one from {next_at:%H:%M}."
    ) in response.content.decode()
    assert Element.objects.count() == 2
    assert LedgerEntry.objects.filter(kind=EntryKind.HOLD).count() == 2

    # Someone else is not held back by it...
    client.force_login(outsider)
    assert create_on_kling(client, name="Other").status_code == 302
    # ...and an hour later it is open again (elements typed in by hand never count).
    Element.objects.filter(created_by=user).update(
        created_at=timezone.now() - timedelta(minutes=61)
    )
    client.force_login(user)
    assert create_on_kling(client, name="Three").status_code == 302


def test_asking_for_a_creation_is_in_the_audit_trail(client, user, sim, pipeline) -> None:
    from audit.models import Action, Entry

    client.force_login(user)
    create_on_kling(client)
    element = Element.objects.get()
    [entry] = Entry.objects.filter(action=Action.ELEMENT_CREATION_ASKED)
    assert entry.actor_id == user.pk
    assert entry.after == {"name": element.name, "held": "$0.0500"}
