"""One money format in sentences (refusals, banners, notices, mails), exact amounts only in
table cells: a refusal no longer reads "$0.5040 ... $0.1800 ... ($2.00)" under "$0.18 left"."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from spend import money
from spend.models import Budget
from spend.services import BudgetExceeded
from tests.factories import make_project

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "prose"),
    [
        ("0.504", "$0.50"),
        ("0.18", "$0.18"),
        ("2", "$2.00"),
        ("0.005", "$0.01"),
        ("0.001", "less than $0.01"),  # a use of the enhancer is not free
        ("0", "$0.00"),
        ("1234.5", "$1,234.50"),
    ],
)
def test_the_prose_format_is_to_the_cent(value: str, prose: str) -> None:
    assert money.prose(Decimal(value)) == prose


def _refusal(budget: Budget, *, left: str, needed: str, **wording: str) -> str:
    return str(BudgetExceeded(budget=budget, left=Decimal(left), needed=Decimal(needed), **wording))


def test_a_refusal_of_the_persons_own_budget_is_in_prose_and_says_your(django_user_model) -> None:
    demo = django_user_model.objects.create_user("demo")
    budget = Budget.objects.create(person=demo, monthly_limit=Decimal("2"))
    assert _refusal(budget, left="0.18", needed="0.504") == (
        "This run costs $0.50, but only $0.18 is left of your monthly budget ($2.00 a month). "
        "Ask an admin to raise it, or generate fewer or smaller images."
    )


def test_the_default_personal_budget_is_also_your_monthly_budget(django_user_model) -> None:
    demo = django_user_model.objects.create_user("demo")
    default = Budget.objects.create(is_personal_default=True, monthly_limit=Decimal("1"))
    text = _refusal(default.applied_to(demo.pk), left="0.1", needed="0.112")
    assert "only $0.10 is left of your monthly budget ($1.00 a month)" in text
    assert "demo" not in text


def test_amounts_under_a_cent_apart_do_not_read_as_equal(django_user_model) -> None:
    project = make_project(django_user_model.objects.create_user("owner"))
    budget = Budget.objects.create(project=project, monthly_limit=Decimal("1"))
    text = _refusal(budget, left="0.025", needed="0.028")
    assert text.startswith("This run costs $0.03, just over what is left of the monthly budget")
    assert "Ask an admin or a project owner" in text
    nothing = _refusal(budget, left="-0.01", needed="0.001", what="The prompt enhancer")
    assert nothing.startswith("The prompt enhancer costs less than $0.01, but nothing is left")


EXACT = re.compile(r"money_exact")
OPENING_TAG = re.compile(r"<([a-zA-Z][\w-]*)")


def test_exact_amounts_appear_only_in_table_cells() -> None:
    """`money_exact` is for tables (a cell, or a <dd> of the exact request); prose uses `money`."""
    found = 0
    for path in Path("templates").rglob("*.*"):
        text = path.read_text()
        for hit in EXACT.finditer(text):
            found += 1
            tags = OPENING_TAG.findall(text[: hit.start()])
            assert tags and tags[-1] in ("td", "dd"), f"{path}: exact money outside a cell"
    assert found > 10


def test_python_prose_uses_the_prose_format() -> None:
    """Sentences built in Python (refusals, notices, quotes) never use the table format."""
    for path in ("spend/services.py", "spend/notifications.py", "elements/creation.py"):
        assert "money.exact(" not in Path(path).read_text(), path
