"""The prompt enhancer: what WaveSpeed receives, the suggestion, its failures and the panel."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from generations.models import EnhancementStatus, PromptEnhancement
from generations.services.enhancing import GIVE_UP_SECONDS, enhancement_create
from generations.views.enhance import word_diff
from simulator.optimizer import enhance_prompt
from spend.models import EntryKind, LedgerEntry
from wavespeed import runner

pytestmark = pytest.mark.django_db

OPTIMIZER_PATH = "/api/v3/wavespeed-ai/prompt-optimizer"
PROMPT = "a red kite over the harbour at dawn"


def finish(pipeline, enhancement: PromptEnhancement) -> PromptEnhancement:
    """Run the queued tasks until the use is final."""
    final = (EnhancementStatus.DONE, EnhancementStatus.FAILED)
    pipeline.run_until(lambda: PromptEnhancement.objects.get(pk=enhancement.pk).status in final)
    enhancement.refresh_from_db()
    return enhancement


def ledger(enhancement: PromptEnhancement) -> list[tuple[str, Decimal]]:
    return sorted((e.kind, e.amount) for e in LedgerEntry.objects.filter(enhancement=enhancement))


def optimizer_submits(sim) -> list[dict]:
    return sim.posts(OPTIMIZER_PATH)


def test_wavespeed_receives_the_prompt_the_style_and_image_mode(user, sim, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="photographic")
    assert pipeline.names() == ["submit_job"]

    enhancement = finish(pipeline, enhancement)

    [request] = optimizer_submits(sim)
    assert request["path"] == OPTIMIZER_PATH
    assert request["json"] == {"text": PROMPT, "style": "photographic", "mode": "image"}
    assert enhancement.status == EnhancementStatus.DONE
    assert enhancement.suggestion == enhance_prompt(PROMPT, "photographic")
    assert enhancement.provider_id and enhancement.finished_at is not None
    assert not sim.submits(), "the enhancer must not start a generation"


def test_the_panel_polls_then_shows_both_prompts_with_the_differences(
    client, user, sim, pipeline
) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:enhance"), {"prompt": PROMPT, "style": "anime"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    enhancement = PromptEnhancement.objects.get()
    url = reverse("generations:enhancement", args=[enhancement.uuid])
    html = response.content.decode()
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html
    assert "Enhancing your prompt" in html

    finish(pipeline, enhancement)
    response = client.get(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 286  # final: htmx stops polling
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "<ins>" in html and "anime illustration style" in html
    assert f'data-original="{PROMPT}"' in html
    for button in ("enhance-accept", "enhance-edit", "enhance-discard"):
        assert f'id="{button}"' in html


def test_the_word_diff_marks_removed_and_added_words_and_escapes_the_rest() -> None:
    before, after = word_diff("a red <b>kite</b> at dawn", "a blue <b>kite</b> at dawn, cinematic")
    assert before == "a <del>red</del> &lt;b&gt;kite&lt;/b&gt; at dawn"
    assert after == "a <ins>blue</ins> &lt;b&gt;kite&lt;/b&gt; at dawn<ins>, cinematic</ins>"


def test_the_generate_page_offers_the_enhancer_with_its_price(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert 'id="enhance-button"' in html
    assert "Enhance · $0.001" in html
    assert 'id="enhance-style"' in html and 'value="photographic"' in html
    assert 'name="prompt_original"' in html and 'id="id_prompt_original"' in html
    assert "js/enhancer.js" in html


def test_an_empty_or_oversized_prompt_is_refused_with_nothing_held_or_sent(
    client, user, sim, pipeline
) -> None:
    client.force_login(user)
    empty = client.post(reverse("generations:enhance"), {"prompt": "   ", "style": "default"})
    huge = client.post(reverse("generations:enhance"), {"prompt": "x" * 2501})
    odd = client.post(reverse("generations:enhance"), {"prompt": PROMPT, "style": "baroque"})
    assert "Write a prompt first" in empty.content.decode()
    assert "longer than 2,500 characters" in huge.content.decode()
    assert "Choose one of the styles" in odd.content.decode()
    assert not PromptEnhancement.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not pipeline.queued and not optimizer_submits(sim)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "fail_prediction", "model": "wavespeed-ai/prompt-optimizer"}, "code"),
        ({"kind": "http", "endpoint": "submit", "status": 500}, "WaveSpeed had an error (500)"),
        ({"kind": "http", "endpoint": "submit", "status": 401}, "refused Darkroom's API key"),
        ({"kind": "http", "endpoint": "submit", "status": 402}, "no balance left"),
        ({"kind": "http", "endpoint": "result", "status": 401}, "refused Darkroom's API key"),
    ],
)
def test_a_failure_says_why_and_costs_nothing(user, sim, pipeline, fault, expected) -> None:
    sim.fault(**fault)
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")

    enhancement = finish(pipeline, enhancement)

    assert enhancement.status == EnhancementStatus.FAILED
    assert expected in enhancement.error_message
    assert enhancement.cost == 0 and enhancement.suggestion == ""
    assert ledger(enhancement) == [
        (EntryKind.HOLD, Decimal("0.001")),
        (EntryKind.RELEASE, Decimal("0.001")),
    ]
    # A submit that may have arrived (a 500) is not sent again: WaveSpeed has no idempotency.
    assert len(optimizer_submits(sim)) == 1


def test_a_429_on_submit_is_sent_again_and_then_succeeds(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="submit", status=429, retry_after=0)
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")

    enhancement = finish(pipeline, enhancement)

    assert enhancement.status == EnhancementStatus.DONE
    assert [t.name for t in pipeline.ran[:2]] == ["submit_job", "submit_job"]
    assert pipeline.ran[1].countdown > 0, "the retry waits (backoff)"
    assert len(optimizer_submits(sim)) == 2


def test_errors_while_polling_are_retried_with_backoff(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="result", status=503, count=2)
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")

    enhancement = finish(pipeline, enhancement)

    assert enhancement.status == EnhancementStatus.DONE
    # Two failed looks, each followed by a longer backoff (the row counts the errors), then
    # the looks that read the result.
    follows = [t for t in pipeline.ran if t.name == "follow_job"]
    assert len(follows) >= 3
    assert 0.5 <= follows[1].countdown < follows[2].countdown


def test_too_many_429s_on_submit_give_up_with_a_clear_message(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="submit", status=429, count=10)
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")

    enhancement = finish(pipeline, enhancement)

    assert enhancement.status == EnhancementStatus.FAILED
    assert "WaveSpeed is busy" in enhancement.error_message
    assert len(optimizer_submits(sim)) == 4


def test_a_task_run_twice_submits_once(user, sim, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    pipeline.queued.append(pipeline.queued[0])  # the broker delivered it twice

    finish(pipeline, enhancement)

    assert len(optimizer_submits(sim)) == 1


def test_the_panel_only_reads_a_lost_use_is_ended_by_the_sweeper(
    client, user, sim, pipeline
) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    pipeline.queued.clear()  # the message was lost
    PromptEnhancement.objects.filter(pk=enhancement.pk).update(
        created_at=timezone.now() - timedelta(seconds=GIVE_UP_SECONDS + 60)
    )
    client.force_login(user)
    url = reverse("generations:enhancement", args=[enhancement.uuid])

    response = client.get(url)

    assert response.status_code == 200  # still waiting: a GET changes nothing
    enhancement.refresh_from_db()
    assert enhancement.status == EnhancementStatus.QUEUED
    assert ledger(enhancement) == [(EntryKind.HOLD, Decimal("0.001"))]

    assert runner.sweep()["enhancement_given_up"] == 1
    response = client.get(url)

    assert response.status_code == 286
    assert "stopped waiting" in response.content.decode()
    enhancement.refresh_from_db()
    assert enhancement.status == EnhancementStatus.FAILED
    assert ledger(enhancement) == [
        (EntryKind.HOLD, Decimal("0.001")),
        (EntryKind.RELEASE, Decimal("0.001")),
    ]
