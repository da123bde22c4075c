"""An owner removes an editor: the editor's share link to a project image stops working, and
the owner reads both events in the project's audit trail (issue 12)."""

from __future__ import annotations

import pytest

from gallery.services.sharing import share_create
from projects.models import Role
from tests.conftest import log_in
from tests.factories import add_member, make_image, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_removing_an_editor_ends_their_share_link_and_the_owner_sees_it_in_the_trail(
    page, browser, live_server, django_user_model
) -> None:
    from playwright.sync_api import expect

    alice, bob = (
        django_user_model.objects.create_user(name, password=f"pw-{name}-123456")
        for name in ("alice", "bob")
    )
    harbour = make_project(alice, "Harbour")
    add_member(harbour, bob, Role.EDITOR)
    image = make_image(alice, project=harbour, prompt="the lighthouse at night")
    link = share_create(user=bob, image=image, expires_in_days=None, show_prompt=False)

    # Anyone with bob's link sees the image.
    visitor = browser.new_context(base_url=live_server.url).new_page()
    visitor.goto(f"/s/{link.token}/")
    expect(visitor.get_by_role("img", name="Shared image")).to_be_visible()

    # Alice removes bob on the project's settings page.
    log_in(page, alice)
    page.goto(f"/projects/{harbour.uuid}/settings/")
    page.locator("#member-bob").get_by_role("button", name="Remove").click()
    expect(page.locator(".messages")).to_contain_text("Removed from the project.")
    expect(page.locator("#member-bob")).to_have_count(0)

    # The link now answers the "no longer shared" page.
    response = visitor.goto(f"/s/{link.token}/")
    assert response.status == 410
    expect(visitor.get_by_role("heading", name="This image is no longer shared")).to_be_visible()
    expect(visitor.get_by_role("img")).to_have_count(0)

    # Both events are in the trail on the settings page, newest first.
    trail = page.locator("section", has=page.get_by_role("heading", name="Audit trail"))
    rows = trail.locator("tr.audit-entry")
    expect(rows.nth(0)).to_contain_text("Share link revoked")
    expect(rows.nth(0)).to_contain_text("made by bob")
    expect(rows.nth(0)).to_contain_text("Its maker left the project")
    expect(rows.nth(1)).to_contain_text("Member removed")
    expect(rows.nth(1)).to_contain_text("alice")
    expect(rows.nth(1)).to_contain_text("role: editor → —")
    visitor.context.close()
