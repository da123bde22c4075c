"""Elements for tests: made through the services, as the pages make them."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def make_element():
    return factories.make_element
