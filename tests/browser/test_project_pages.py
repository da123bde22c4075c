"""Two people in one project see each other's images; a third sees neither."""

from __future__ import annotations

import pytest

from generations.models import OutputImage
from tests.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def generate_into(page, project: str, prompt: str) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("Project").select_option(label=project)
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_role("button", name="Generate").click()
    item = page.locator(".run", has_text=prompt)
    expect(item.locator(".status")).to_have_attribute("data-status", "done", timeout=45_000)


def test_project_members_share_a_gallery_that_others_cannot_see(
    browser, live_server, django_user_model, sim, start_worker
) -> None:
    from playwright.sync_api import expect

    people = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-123456")
        for name in ("alice", "bob", "carol")
    }
    start_worker()
    sim.configure(latency=0.5)
    contexts = {
        name: browser.new_context(base_url=live_server.url) for name in ("alice", "bob", "carol")
    }
    alice, bob, carol = (contexts[n].new_page() for n in ("alice", "bob", "carol"))
    for page in (alice, bob, carol):
        page.set_default_timeout(15_000)

    # Alice creates the project and an editor's invitation link; Bob opens it and joins.
    log_in(alice, people["alice"])
    alice.get_by_role("link", name="Projects").click()
    alice.get_by_label("Project name").fill("Harbour")
    alice.get_by_role("button", name="Create project").click()
    expect(alice.get_by_role("heading", name="Harbour", exact=True)).to_be_visible()
    alice.get_by_role("link", name="Members and settings").click()
    alice.get_by_label("Role", exact=True).select_option("editor")
    alice.get_by_role("button", name="Create link").click()
    link = alice.get_by_label("Invitation link").input_value()

    log_in(bob, people["bob"])
    bob.goto(link)
    bob.get_by_role("button", name="Join the project").click()
    expect(bob.locator(".messages")).to_contain_text("You are now in Harbour.")

    # Each generates into the project.
    generate_into(alice, "Harbour", "Alice's lighthouse")
    generate_into(bob, "Harbour", "Bob's tugboat")
    images = list(OutputImage.objects.order_by("-created_at", "-id"))
    assert len(images) == 2

    # Both see both images in the project's gallery, with the author under each.
    for page in (alice, bob):
        page.get_by_role("link", name="Gallery").click()
        page.get_by_role("navigation", name="Galleries").get_by_role("link", name="Harbour").click()
        tiles = page.locator(".gallery-grid .tile")
        expect(tiles).to_have_count(2)
        expect(tiles.nth(0)).to_contain_text("bob")
        expect(tiles.nth(1)).to_contain_text("alice")
        page.locator(".gallery-grid a.thumb").first.click()
        lightbox = page.get_by_role("dialog", name="Image viewer")
        expect(lightbox).to_contain_text("Bob's tugboat")
        page.keyboard.press("Escape")

    # Carol, in no project, sees neither: not in her gallery, and not by address.
    log_in(carol, people["carol"])
    carol.get_by_role("link", name="Gallery").click()
    expect(carol.locator(".gallery-grid a.thumb")).to_have_count(0)
    # (with no image anywhere she has no gallery chips at all)
    expect(carol.get_by_role("link", name="Harbour")).to_have_count(0)
    for image in images:
        for path in (f"/images/{image.uuid}/", f"/images/{image.uuid}/original/"):
            response = carol.goto(path)
            assert response.status == 404
    assert carol.goto(f"/projects/{images[0].project.uuid}/").status == 404

    for context in contexts.values():
        context.close()
