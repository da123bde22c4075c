"""Issue 12, finding 1: a default personal monthly budget, set by staff, caps everyone without
a budget of their own, so no account (a new one least of all) is outside a personal cap."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import Invitation
from generations import services
from generations.models import Generation
from generations.services.submission import GenerationParams
from spend.models import Budget, BudgetAlert, LedgerEntry
from spend.services import BudgetExceeded, applicable_budgets, personal_budget
from tests.spend.test_views import spend_run

pytestmark = pytest.mark.django_db

TEN_IMAGES = Decimal("0.280")  # ten 1k images at $0.0280
PASSWORD = "a-long-Passphrase-42"


def _default(limit: Decimal = TEN_IMAGES) -> Budget:
    return Budget.objects.create(is_personal_default=True, monthly_limit=limit)


def _quote(client, **params: object) -> str:
    query = {"resolution": "1k", "num_images": 4, "result_type": "single", **params}
    return " ".join(client.get(reverse("generations:quote"), query).content.decode().split())


def test_a_new_account_starts_under_the_default_personal_budget(
    client, staff, pipeline, django_user_model
) -> None:
    # Staff set the default in the admin.
    client.force_login(staff)
    response = client.post(
        reverse("admin:spend_budget_add"),
        {"person": "", "project": "", "is_personal_default": "on", "monthly_limit": "0.100"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    invitation = Invitation.objects.create(created_by=staff)
    client.logout()

    # Someone new joins...
    client.post(
        reverse("accounts:join", kwargs={"token": invitation.token}),
        {
            "username": "newton",
            "email": "newton@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    newton = django_user_model.objects.get(username="newton")

    # ...and the quote, the submit and the spend page all hold them to it.
    assert "$0.10 left of your monthly budget" in _quote(client, num_images=1)
    refusal = _quote(client, num_images=4)
    assert "only $0.10 is left of your monthly budget" in refusal
    services.generation_create(owner=newton, params=GenerationParams(prompt="a", num_images=3))
    with pytest.raises(BudgetExceeded, match="your monthly budget"):
        services.generation_create(owner=newton, params=GenerationParams(prompt="b"))
    assert Generation.objects.filter(owner=newton).count() == 1
    page = " ".join(client.get(reverse("spend:mine")).content.decode().split())
    assert "84 % used: $0.08 of $0.10, $0.02 left." in page
    assert "The site's default personal budget" in page


def test_without_a_default_nobody_is_capped_as_before(user) -> None:
    assert applicable_budgets(person_id=user.pk, project_id=None) == []
    assert personal_budget(person_id=user.pk) is None


def test_a_persons_own_budget_replaces_the_default(user, outsider, pipeline) -> None:
    _default(Decimal("0.028"))
    own = Budget.objects.create(person=user, monthly_limit=Decimal("1"))

    assert applicable_budgets(person_id=user.pk, project_id=None) == [own]
    services.generation_create(owner=user, params=GenerationParams(prompt="a", num_images=5))
    with pytest.raises(BudgetExceeded, match=r"your monthly budget \(\$0\.03 a month\)"):
        services.generation_create(
            owner=outsider, params=GenerationParams(prompt="b", num_images=2)
        )


def test_the_default_counts_each_persons_spend_alone(user, outsider, pipeline) -> None:
    _default(Decimal("0.056"))  # two images each
    services.generation_create(owner=user, params=GenerationParams(prompt="a", num_images=2))
    services.generation_create(owner=outsider, params=GenerationParams(prompt="b", num_images=2))
    for person in (user, outsider):
        with pytest.raises(BudgetExceeded):
            services.generation_create(owner=person, params=GenerationParams(prompt="c"))


def test_a_raised_default_applies_at_once(user, pipeline) -> None:
    default = _default(Decimal("0.028"))
    services.generation_create(owner=user, params=GenerationParams(prompt="a"))
    default.monthly_limit = Decimal("0.056")
    default.save()
    services.generation_create(owner=user, params=GenerationParams(prompt="b"))
    assert LedgerEntry.objects.filter(person=user).count() == 2


def test_the_default_mails_each_person_at_their_own_thresholds(
    user, outsider, pipeline, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    _default()
    for person, email in ((user, "ada@example.com"), (outsider, "mallory@example.com")):
        person.email = email
        person.save(update_fields=["email"])
        with django_capture_on_commit_callbacks(execute=True):
            services.generation_create(
                owner=person, params=GenerationParams(prompt="p", num_images=8)
            )
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "mallory@example.com"]
    assert all("80 % of your monthly budget" in m.subject for m in mailoutbox)
    assert BudgetAlert.objects.filter(threshold=80).count() == 2
    assert str(BudgetAlert.objects.get(person=user)).startswith("80 % of ada's monthly budget")


def test_there_is_one_default_and_it_caps_people_not_a_scope(client, staff, user) -> None:
    _default()
    with pytest.raises(IntegrityError), transaction.atomic():
        _default()
    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.create(is_personal_default=True, is_organisation=True, monthly_limit=1)
    client.force_login(staff)
    response = client.post(
        reverse("admin:spend_budget_add"),
        {"person": "", "project": "", "is_personal_default": "on", "monthly_limit": "5"},
    )
    assert "There is a default personal budget already" in response.content.decode()
    applied = personal_budget(person_id=user.pk)
    with pytest.raises(ValueError, match="not saving"):
        applied.save()


def test_the_cost_review_lists_people_near_the_default_cap(client, staff, user, outsider) -> None:
    _default(Decimal("0.100"))
    Budget.objects.create(person=outsider, monthly_limit=Decimal("1.000"))
    spend_run(user, charge="0.090")
    spend_run(outsider, charge="0.090")
    client.force_login(staff)
    html = client.get(reverse("spend:review")).content.decode()
    near = html.split('id="near-caps"', 1)[1].split("</table>", 1)[0]
    assert "ada" in near and "90 %" in near
    assert "mallory" not in near


@pytest.mark.django_db(transaction=True)
def test_twenty_submits_at_once_against_the_default_for_ten(django_user_model, pipeline) -> None:
    person = django_user_model.objects.create_user("racer", password="pw-racer-1234")
    _default()
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def submit(n: int) -> None:
        try:
            start.wait()
            services.generation_create(owner=person, params=GenerationParams(prompt=f"run {n}"))
            outcomes.append("reserved")
        except BudgetExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * 10 + ["reserved"] * 10
    assert Generation.objects.filter(owner=person).count() == 10
