"""What the services record in the audit trail: who, what, which object, before/after, when and
from where, for every kind of action, and nothing for an action that rolls back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit import selectors
from audit.models import Action, Entry
from projects import services as project_services
from projects.models import Role
from tests.factories import make_image, make_project

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(
        Entry.objects.exclude(action=Action.LOGIN).order_by("pk").values_list("action", flat=True)
    )


def test_an_entry_says_who_what_which_when_and_from_where(client, user, settings) -> None:
    settings.DARKROOM_TRUSTED_PROXY_COUNT = 1
    client.force_login(user)
    before = timezone.now()
    client.post(
        reverse("projects:list"),
        {"name": "Harbour"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.5",
    )
    entry = Entry.objects.get(action=Action.PROJECT_CREATED)
    assert (entry.actor, entry.actor_name, entry.object_type, entry.object_repr) == (
        user,
        "ada",
        "project",
        "Harbour",
    )
    assert entry.project_name == "Harbour" and entry.at >= before
    # The address logins are counted by (config/addresses.py): the trusted proxy's entry.
    assert entry.address == "203.0.113.5"


def test_a_value_change_keeps_before_and_after(user) -> None:
    project = project_services.project_create(user=user, name="Harbour")
    project_services.project_rename(project=project, name="Dock", by=user)
    entry = Entry.objects.get(action=Action.PROJECT_RENAMED)
    assert (entry.before, entry.after) == ({"name": "Harbour"}, {"name": "Dock"})
    assert entry.changes == [("name", "Harbour", "Dock")]


def test_the_pipeline_records_as_darkroom_without_an_address(user) -> None:
    from generations import state
    from generations.models import ErrorKind, Generation, Status

    image = make_image(user)
    Generation.objects.filter(pk=image.generation_id).update(status=Status.PROCESSING)
    state.fail(image.generation_id, kind=ErrorKind.PROVIDER, message="The provider failed it.")
    entry = Entry.objects.get(action=Action.GENERATION_FAILED)
    assert (entry.actor, entry.who, entry.address) == (None, "Darkroom", "")
    assert entry.reason == "The provider failed it."


def test_an_object_keeps_its_description_after_it_is_gone(user, staff) -> None:
    from gallery.services.trash import images_trash, trash_purge
    from generations.models import OutputImage

    image = make_image(user, prompt="a kite over the dunes")
    images_trash(user=user, images=[image])
    OutputImage.objects.filter(pk=image.pk).update(deleted_at=timezone.now() - timedelta(days=99))
    trash_purge()
    page = selectors.trail_page(selectors.TrailFilters(), staff=True)
    purged = next(e for e in page.entries if e.action == Action.IMAGE_PURGED)
    assert purged.object_repr.startswith("“a kite over the dunes”")
    assert purged.url == ""  # gone: a description, no link
    trashed = next(e for e in page.entries if e.action == Action.IMAGE_TRASHED)
    assert trashed.url == ""


def test_an_action_that_rolls_back_leaves_no_entry(user, pipeline) -> None:
    from generations.services import generation_create
    from generations.services.submission import GenerationParams
    from spend.models import Budget
    from spend.services import BudgetExceeded

    Budget.objects.create(person=user, monthly_limit=Decimal("0"))
    with pytest.raises(BudgetExceeded):
        generation_create(owner=user, params=GenerationParams(prompt="too dear"))
    assert not Entry.objects.filter(action=Action.GENERATION_CREATED).exists()


def test_every_kind_of_action_is_recorded_by_the_services_that_act(
    client, user, outsider, staff, pipeline
) -> None:
    """A tour of the studio: each step's entry is there, in order."""
    from accounts import services as account_services
    from gallery.services.sharing import share_create, share_revoke
    from gallery.services.trash import images_restore, images_trash
    from generations import state
    from generations.models import ErrorKind
    from generations.services import generation_create
    from generations.services.submission import GenerationParams
    from spend.services import project_budget_set

    project = project_services.project_create(user=user, name="Harbour")
    project_services.project_rename(project=project, name="Dock", by=user)
    invite = project_services.invite_create(project=project, role=Role.EDITOR, created_by=user)
    project_services.invite_accept(token=invite.token, user=outsider)
    membership = project.memberships.get(user=outsider)
    project_services.member_set_role(membership=membership, role=Role.VIEWER, by=user)
    project_services.member_remove(membership=membership, by=user)
    project_budget_set(project=project, monthly_limit=Decimal("5"), by=user)
    project_budget_set(project=project, monthly_limit=Decimal("6"), by=user)
    project_budget_set(project=project, monthly_limit=None, by=user)
    generation = generation_create(
        owner=user, params=GenerationParams(prompt="a tour"), project=project
    )
    state.fail(generation.pk, kind=ErrorKind.PROVIDER, message="no")
    image = make_image(user, project=project)
    link = share_create(user=user, image=image, expires_in_days=7, show_prompt=False)
    share_revoke(user=user, link=link)
    images_trash(user=user, images=[image])
    images_restore(user=user, images=[image])
    project_services.project_set_archived(project=project, archived=True, by=user)
    account_services.invitation_create(created_by=staff)
    account_services.users_deactivate(user_ids=[outsider.pk], by=staff)

    assert actions() == [
        "project.created",
        "project.renamed",
        "member.invited",
        "member.joined",
        "member.role_changed",
        "member.removed",
        "budget.set",
        "budget.changed",
        "budget.removed",
        "generation.created",
        "generation.failed",
        "share.created",
        "share.revoked",
        "image.trashed",
        "image.restored",
        "project.archived",
        "account.invited",
        "account.deactivated",
    ]
    # The project's owners read the project's part of it.
    client.force_login(user)
    page = client.get(reverse("projects:trail", args=[project.uuid]))
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Project renamed", "Member removed", "Budget changed", "Generation failed"):
        assert label in html
    assert "Account deactivated" not in html  # not a project's business
    assert "127.0.0.1" not in html  # owners do not see their members' addresses


def test_prices_added_in_the_admin_are_recorded(client, staff) -> None:
    client.force_login(staff)
    response = client.post(
        reverse("admin:spend_price_add"),
        {
            "model": "kwaivgi/kling-image-o3",
            "resolution": "4k",
            "per_image": "0.06",
            "valid_from_0": "2099-01-01",
            "valid_from_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    entry = Entry.objects.get(action=Action.PRICE_ADDED)
    assert entry.actor == staff and "4k $0.06" in entry.object_repr


def test_budgets_set_by_staff_in_the_admin_show_in_the_projects_trail(client, staff, user) -> None:
    project = make_project(user)
    client.force_login(staff)
    response = client.post(
        reverse("admin:spend_budget_add"),
        {"project": project.pk, "monthly_limit": "12", "is_organisation": ""},
    )
    assert response.status_code == 302
    entry = Entry.objects.get(action=Action.BUDGET_SET)
    assert (entry.actor, entry.project, entry.after) == (
        staff,
        project,
        {"monthly limit": "$12.000"},
    )


def test_a_zip_download_is_recorded_once_per_project(client, user) -> None:
    harbour = make_project(user, "Harbour")
    images = [make_image(user, project=harbour) for _ in range(3)] + [make_image(user)]
    client.force_login(user)
    response = client.post(reverse("gallery:bulk_zip"), {"images": [i.uuid for i in images]})
    assert response.status_code == 200
    zipped = Entry.objects.filter(action=Action.IMAGES_ZIPPED)
    assert sorted((e.project_name, e.after["images"]) for e in zipped) == [
        ("", 1),
        ("Harbour", 3),
    ]
    assert {e.actor for e in zipped} == {user}


def test_a_paid_use_of_the_prompt_enhancer_is_recorded(user) -> None:
    from generations.services.enhancing import enhancement_create

    project = make_project(user, "Harbour")
    enhancement = enhancement_create(owner=user, project=project, text="a kite", style="default")
    [entry] = Entry.objects.filter(action=Action.ENHANCER_USED)
    assert (entry.actor_id, entry.project_id) == (user.pk, project.pk)
    assert entry.after == {"held": f"${enhancement.price:.4f}"}
