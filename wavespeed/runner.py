"""The one job runner for every call to WaveSpeed: submit exactly once, follow (webhook first,
polls as the fallback), give up, sweep.

A *job* is a row of a model with the `ProviderJob` fields (a generation, a use of the prompt
enhancer, an element created on Kling). Its *kind* (a `JobKind`, registered by its app when
Django starts) says which rows are waiting to be sent and which are followed, what to send, and
what to do with the result; everything between is here, once:

- Submit: a conditional UPDATE claims the row (`submit_claimed_at`), so only one run sends it.
  WaveSpeed has no idempotency key, so an answer that may have been lost (a timeout, a 5xx) is
  never followed by a blind resend: the prediction history is asked (`reconcile`), or, for a kind
  that would rather not wait (`Timings.reconcile_lost_submits` off), the job fails with a word
  that it may have arrived. A refusal before anything was created (429, no connection) is sent
  again after a backoff, within the kind's attempts or window. The accepted prediction's id is
  logged at once and recorded on a fresh connection if the first write fails. A new job its
  kind admits to batches (`batch_submittable`: a generation without references) queues no task
  of its own: one `submit_due` task claims every such job due, SUBMIT_BATCH at a time, and
  sends them concurrently, each claimed and answered as above.
- Follow: with webhooks on (DARKROOM_PUBLIC_URL) every submit carries the receiver's URL and
  the first poll waits for the expected run time plus a grace; without, polls start soon and
  grow. Each poll (a task with a countdown, or a batched tick; nothing sleeps) claims the row
  by advancing `poll_seq`, as does a webhook delivery the receiver applies, so a duplicate or
  restarted chain finds nothing to do. Failed polls back off; a first 404 is read again
  before it is believed.
- Give up: a job followed longer than the kind's `give_up` fails; the sweeper also ends jobs
  older than `give_up_unfinished` (someone is waiting beside the page).
- Sweep: one periodic task queues again any step whose `next_step_at` is late.

Retry counts live in the row (`submit_attempts`, `poll_errors`), never in task arguments, so a
step the sweeper queues again goes on counting. Tasks take (kind, id) (`wavespeed/tasks.py`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, TypeVar, cast

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import Case, DateTimeField, F, Model, Q, QuerySet, Value, When
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from . import timing, webhooks
from .client import (
    NetworkError,
    NotFoundError,
    Prediction,
    RateLimitError,
    WaveSpeedError,
    get_client,
)
from .history import HistoryVerdict, search_history
from .models import ProviderJob

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)

# Look in the history a little after a lost answer, so the provider has recorded the task.
RECONCILE_DELAY_SECONDS = 3.0
RECONCILE_RETRY_CAP_SECONDS = 60.0
# A prediction in the history may carry a time up to this much before our claim (clocks differ).
HISTORY_SKEW = timedelta(minutes=2)
# Recording an accepted submit: tries on a fresh database connection before handing the
# prediction id to a task (which carries it through the broker).
RECORD_TRIES = 5
RECORD_RETRY_TASK_DELAY_SECONDS = 10.0
# WaveSpeed accepted this prediction, so a 404 is read again before it is believed: a provider
# restart or a lagging replica can answer 404 for a moment.
NOT_FOUND_CONFIRM_SECONDS = 5.0
NOT_FOUND = NotFoundError.kind


# --- What a kind says -------------------------------------------------------------------------
@dataclass(frozen=True)
class Timings:
    """A kind's schedule. Seconds throughout."""

    # How long a run should take: with webhooks on, the first poll waits this plus the grace.
    expected_run: float
    # Polls without webhooks: the first after `poll_first`, each wait `poll_factor` longer, at
    # most `poll_cap` (+/-20 % jitter).
    poll_first: float
    poll_factor: float
    poll_cap: float
    # A job followed this long after its submit is given up.
    give_up: float
    # A refused submit (nothing created) is sent again after a backoff from `submit_retry_base`
    # to `submit_retry_cap`, up to `max_submit_attempts` tries and for `submit_retry_window`
    # after the first refusal (either may be None: no such limit).
    submit_retry_base: float
    submit_retry_cap: float
    max_submit_attempts: int | None
    submit_retry_window: float | None
    # A poll that fails (429, 5xx, network) is tried again with backoff, `max_poll_errors` times.
    max_poll_errors: int
    poll_error_base: float
    poll_error_cap: float
    # The sweeper queues a step again once it is this late.
    stale_after: float
    # Longer than a submit can take (uploads, connect, answer).
    submit_lease: float
    # True: a submit whose answer was lost is looked up in the prediction history. False: the
    # job fails at once, saying the request may have arrived.
    reconcile_lost_submits: bool = True
    # The sweeper ends any unfinished job created longer ago than this (None: never).
    give_up_unfinished: float | None = None


class Reason(StrEnum):
    """Why the runner ends a job."""

    REFUSED = "refused"  # WaveSpeed refused the submit for good (auth, balance, invalid)
    NOT_TAKEN = "not_taken"  # refused again and again (429, unreachable): tries ran out
    MAYBE_SENT = "maybe_sent"  # the answer was lost and the kind does not reconcile
    LOST_SUBMIT = "lost_submit"  # the worker died mid-submit and the kind does not reconcile
    INPUT = "input"  # what was to be sent could not be read
    PREDICTION = "prediction"  # the prediction failed, or completed with nothing usable
    POLL = "poll"  # its state could not be read from WaveSpeed
    GAVE_UP = "gave_up"  # not finished in the kind's time


@dataclass(frozen=True)
class Failure:
    """A job's end without a result. `message` is the runner's wording; a kind may say it its
    own way from the rest."""

    reason: Reason
    kind: str  # the error kind recorded on the row ("auth", "prediction", "timeout", ...)
    message: str
    error: WaveSpeedError | None = None
    prediction: Prediction | None = None
    via: str = ""  # "poll" or "webhook" when a prediction's end was read
    followed: bool = False  # True once WaveSpeed holds the prediction


class InputUnreadable(Exception):
    """What a job is to send cannot be read (a file gone from storage): fails it."""


class JobKind(ABC):
    """One kind of call to WaveSpeed. Subclasses say what to send and what to do with the
    result; `register()` one instance when the app is ready."""

    name: ClassVar[str]  # in task arguments: stable
    model: ClassVar[type[ProviderJob]]
    provider_model: ClassVar[str]

    # --- where a row is
    def rows(self) -> QuerySet[ProviderJob]:
        return self.model._default_manager.all()

    @abstractmethod
    def awaiting_submit(self) -> Q:
        """The rows not yet held by WaveSpeed that may be sent (claimed or not)."""

    @abstractmethod
    def followed(self) -> Q:
        """The rows whose prediction is followed (WaveSpeed holds it; no end applied yet)."""

    @abstractmethod
    def timings(self) -> Timings: ...

    # --- what to send
    def prepare(self, job: Any) -> bool:
        """Work before the claim (uploads, which may take minutes). False: stop here (the kind
        retried or failed it through the runner)."""
        return True

    @abstractmethod
    def payload(self, job: Any) -> dict[str, Any]:
        """The submit body. May raise WaveSpeedError (an upload) or InputUnreadable."""

    def model_of(self, job: Any) -> str:
        return self.provider_model

    # --- what to do
    @abstractmethod
    def start_following(self, job_id: int, fields: dict[str, Any]) -> bool:
        """Move an awaiting row to followed with `fields` (one conditional UPDATE); True if it
        moved."""

    def note_processing(self, job: Any, now: datetime) -> None:
        """WaveSpeed started working on it (first seen in `processing`)."""
        self.rows().filter(self.followed(), pk=job.pk, processing_at__isnull=True).update(
            processing_at=now
        )

    @abstractmethod
    def on_success(self, job: Any, prediction: Prediction, *, via: str) -> None:
        """Apply a completed prediction to a job its caller claimed; only from followed."""

    @abstractmethod
    def on_failure(self, job_id: int, failure: Failure) -> bool:
        """End the job without a result (free its hold); True if this call ended it."""

    def needs_attention(self, job: Any, why: str) -> None:
        """The history could not settle a lost submit. By default the job fails."""
        self.on_failure(
            job.pk,
            Failure(
                Reason.MAYBE_SENT,
                "unknown_submit",
                f"The request to WaveSpeed may or may not have arrived, and {why}. It was not "
                "sent again, to avoid paying twice.",
            ),
        )

    def note_fields(self, kind: str, message: str) -> dict[str, Any]:
        """Fields that tell the person why the job waits (kinds with a message field)."""
        return {"error_kind": kind}

    def touch(self) -> dict[str, Any]:
        """Fields every claim also sets (a kind's `updated_at`)."""
        return {}

    def sweep_extra(self) -> dict[str, int]:
        """The kind's own steps the periodic sweeper resumes (a generation's save)."""
        return {}

    def batch_submittable(self) -> Q | None:
        """The jobs of this kind whose first submit may be sent in a batch (`submit_due`): those
        `prepare` has nothing to do for. None: every submit of this kind is a task of its own."""
        return None

    def typical_run_seconds(self, job: Any) -> float | None:
        """How long jobs like this one have lately taken from submit to result, if the kind
        knows: without webhooks the first poll waits for most of it (timing.first_poll_delay),
        so a run is looked at about twice instead of every second or two from the start."""
        return None

    def note_processing_many(self, jobs: list[Any], now: datetime) -> None:
        """`note_processing` for several jobs at once (a poll tick); kinds may do it in one
        statement."""
        for job in jobs:
            self.note_processing(job, now)


_kinds: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    _kinds[kind.name] = kind


def kind_named(name: str) -> JobKind:
    return _kinds[name]


def kinds() -> list[JobKind]:
    return list(_kinds.values())


def update_returning(rows: QuerySet[M], **fields: Any) -> M | None:
    """`rows.update(**fields)` as one `UPDATE … RETURNING`: the row it changed, as it is now
    (None when nothing matched). For claims that need the claimed row: one statement instead of
    an UPDATE and a SELECT, and the row read is exactly the one the claim changed. `rows`
    must match one row at most (a filter on the primary key). PostgreSQL and SQLite (3.35+)."""
    changed = update_returning_all(rows, **fields)
    return changed[0] if changed else None


def update_returning_all(rows: QuerySet[M], **fields: Any) -> list[M]:
    """`update_returning` for any number of rows: every row the UPDATE changed, as it is now."""
    model = rows.model
    db = rows.db
    conn = connections[db]
    query = cast(UpdateQuery, rows.query.chain(UpdateQuery))
    query.add_update_values(fields)
    compiler = query.get_compiler(db)
    compiler.pre_sql_setup()
    sql, params = compiler.as_sql()
    concrete = list(model._meta.concrete_fields)
    table = model._meta.db_table
    sql += " RETURNING " + ", ".join(
        f"{conn.ops.quote_name(table)}.{conn.ops.quote_name(f.column)}" for f in concrete
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        found = [list(row) for row in cursor.fetchall()]
    if not found:
        return []
    reader = conn.ops.compiler("SQLCompiler")(query, conn, db)
    converters = reader.get_converters([f.get_col(table) for f in concrete])
    if converters:
        found = [list(row) for row in reader.apply_converters(found, converters)]
    names = [f.attname for f in concrete]
    return [model.from_db(db, names, values) for values in found]


# --- Queueing steps ---------------------------------------------------------------------------
def schedule_submit(kind: JobKind, job_id: int, countdown: float = 0) -> None:
    from .tasks import submit_job

    timing.after_commit(submit_job, countdown, kind.name, job_id)


def schedule_reconcile(kind: JobKind, job_id: int, countdown: float = 0) -> None:
    from .tasks import reconcile_job

    timing.after_commit(reconcile_job, countdown, kind.name, job_id)


def schedule_record(kind: JobKind, job_id: int, prediction_id: str, countdown: float) -> None:
    from .tasks import record_job_prediction

    timing.after_commit(record_job_prediction, countdown, kind.name, job_id, prediction_id)


def schedule_follow(kind: JobKind, job_id: int, seq: int, countdown: float) -> None:
    """Queue the next look at a prediction; with batched polling (POLL_BATCH) nothing is queued:
    the row's `next_step_at`, which every caller has set, is what the tick reads."""
    if batch_polling():
        return
    from .tasks import follow_job

    timing.after_commit(follow_job, countdown, kind.name, job_id, seq)


def batch_polling() -> bool:
    batch: bool = settings.POLL_BATCH
    return batch


def queue_first_submit(kind: JobKind, job_id: int) -> None:
    """A new job: due now, and its submit queued after the commit."""
    kind.rows().filter(pk=job_id).update(next_step_at=timezone.now())
    schedule_submit(kind, job_id)


# --- Submit -----------------------------------------------------------------------------------
def submit(kind: JobKind, job_id: int) -> None:
    """Send a job waiting to be sent. Safe to run twice: only one run claims it."""
    unclaimed = kind.rows().filter(
        kind.awaiting_submit(),
        pk=job_id,
        provider_id__isnull=True,
        submit_claimed_at__isnull=True,
    )
    job = unclaimed.first()
    if job is None or not kind.prepare(job):
        return
    job = update_returning(unclaimed, **_submit_claim(kind))
    if job is None:
        return
    _sent(kind, job, _post(kind, job, webhooks.webhook_url()))


def _submit_claim(kind: JobKind) -> dict[str, Any]:
    return {
        "submit_claimed_at": timezone.now(),
        "submit_attempts": F("submit_attempts") + 1,
        **kind.touch(),
    }


Sent = Prediction | WaveSpeedError | InputUnreadable


def _post(kind: JobKind, job: ProviderJob, webhook: str | None) -> Sent | Exception:
    """The submit request of a claimed job: WaveSpeed's answer, or why there is none (an
    unexpected error is returned too, so that one job's never stops a batch's others)."""
    try:
        return get_client().submit(kind.model_of(job), kind.payload(job), webhook=webhook)
    except Exception as exc:  # WaveSpeedError, InputUnreadable, or unexpected (`_sent`)
        return exc


def _sent(kind: JobKind, job: ProviderJob, outcome: Sent | Exception) -> None:
    if isinstance(outcome, WaveSpeedError):
        _submit_failed(kind, job, outcome)
    elif isinstance(outcome, InputUnreadable):
        logger.error("%s %s: what it sends cannot be read", kind.name, job.pk, exc_info=outcome)
        kind.on_failure(job.pk, Failure(Reason.INPUT, "invalid", str(outcome)))
    elif isinstance(outcome, Exception):
        # Sent or not, nobody knows: the claim stays, and once it is older than the lease the
        # sweeper has the history asked, as for a worker that died mid-request.
        raise outcome
    else:
        adopt(kind, job, outcome)


# A burst of new jobs is sent by one `submit_due` task, not a task each: while one is queued or
# running (this key is set) a new job queues nothing, and the running one takes it. The key
# lapses after SUBMIT_KICK_SECONDS, so a task lost with its worker (or one held up by a slow
# WaveSpeed) delays new jobs that long at most: the next one queues another.
SUBMIT_KICK_KEY = "wavespeed:submit-due"
SUBMIT_KICK_SECONDS = 15
SUBMIT_DUE_RETRY_SECONDS = 10.0


def queue_first_submit_batched(kind: JobKind, job_id: int) -> None:
    """A new job that `kind.batch_submittable()` admits (due from its creation): sent by a
    `submit_due` task, queued after the commit unless one is already queued or running."""
    from .tasks import submit_due

    timing.after_commit_once(submit_due, SUBMIT_KICK_KEY, SUBMIT_KICK_SECONDS)


def submit_due() -> int:
    """Send every new job that may be sent in a batch, SUBMIT_BATCH at a time, the requests
    concurrent through the pooled client; how many were sent. Each job is claimed as `submit`
    claims one, so what follows (a lost answer, a worker killed mid-request, a retry) is the
    same. Runs until none is left; a job committed while it runs is found by it. If it fails,
    another is queued, so jobs whose kick found it running are not left to the sweeper."""
    from django.core.cache import cache

    from .tasks import submit_due as task

    sent = 0
    try:
        while True:
            claimed = _claim_submits(skip_locked=True)
            if not claimed:
                # A job whose kick found the key set committed before this delete: one more look,
                # waiting for rows another transaction holds rather than passing them by.
                cache.delete(SUBMIT_KICK_KEY)
                claimed = _claim_submits(skip_locked=False)
                if not claimed:
                    return sent
                cache.add(SUBMIT_KICK_KEY, 1, timeout=SUBMIT_KICK_SECONDS)
            sent += _send_claimed(claimed)
    except Exception:
        with contextlib.suppress(Exception):
            cache.delete(SUBMIT_KICK_KEY)
        timing.publish_once(task, SUBMIT_KICK_KEY, SUBMIT_KICK_SECONDS, SUBMIT_DUE_RETRY_SECONDS)
        raise


def _send_claimed(claimed: list[tuple[JobKind, ProviderJob]]) -> int:
    webhook = webhooks.webhook_url()
    kinds_of, jobs = zip(*claimed, strict=True)
    with ThreadPoolExecutor(max_workers=len(claimed), thread_name_prefix="submit") as pool:
        outcomes = list(pool.map(_post, kinds_of, jobs, [webhook] * len(jobs)))
    for (kind, job), outcome in zip(claimed, outcomes, strict=True):
        try:
            _sent(kind, job, outcome)
        except Exception:
            # As a submit task that fails: logged, its claim left for the sweeper's reconcile;
            # the batch's other answers are still recorded.
            logger.exception("submit of %s %s failed", kind.name, job.pk)
    return len(claimed)


def _claim_submits(*, skip_locked: bool) -> list[tuple[JobKind, ProviderJob]]:
    """Claim up to SUBMIT_BATCH new jobs (never tried: a retry waits for its own task) of the
    kinds that send in batches."""
    limit = int(settings.SUBMIT_BATCH)
    claimed: list[tuple[JobKind, ProviderJob]] = []
    for kind in kinds():
        batchable = kind.batch_submittable()
        if batchable is None or len(claimed) >= limit:
            continue
        new = Q(
            kind.awaiting_submit(),
            provider_id__isnull=True,
            submit_claimed_at__isnull=True,
            submit_attempts=0,
        )
        with transaction.atomic():
            due = list(
                kind.rows()
                .select_for_update(skip_locked=skip_locked)
                .filter(batchable, new)
                .order_by("next_step_at")
                .values_list("pk", flat=True)[: limit - len(claimed)]
            )
            if due:
                jobs = update_returning_all(
                    kind.rows().filter(new, pk__in=due), **_submit_claim(kind)
                )
                claimed += [(kind, job) for job in jobs]
    return claimed


def _submit_failed(kind: JobKind, job: ProviderJob, exc: WaveSpeedError) -> None:
    if exc.permanent:
        kind.on_failure(job.pk, Failure(Reason.REFUSED, exc.kind, exc.message, error=exc))
        return
    if exc.maybe_sent:
        if not kind.timings().reconcile_lost_submits:
            kind.on_failure(
                job.pk,
                Failure(
                    Reason.MAYBE_SENT,
                    exc.kind,
                    f"WaveSpeed's answer was lost ({exc.message}); the request may have "
                    "arrived, so it was not sent again.",
                    error=exc,
                ),
            )
            return
        # The request may have reached WaveSpeed, which has no idempotency key: sending it again
        # could run (and bill) it twice. Keep the claim and ask the history first.
        logger.warning("Submit of %s %s has an unknown fate: %s", kind.name, job.pk, exc)
        with transaction.atomic():
            kind.rows().filter(pk=job.pk).update(
                next_step_at=timing.due_at(RECONCILE_DELAY_SECONDS),
                submit_retry_since=job.submit_retry_since or timezone.now(),
                **kind.note_fields(
                    "", f"Checking whether WaveSpeed received the request ({exc.message})."
                ),
            )
            schedule_reconcile(kind, job.pk, RECONCILE_DELAY_SECONDS)
        return
    # Refused before anything was created (429, no connection): sending again is safe.
    retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
    retry_submit_later(kind, job, exc, retry_after=retry_after)


def _retry_window_over(kind: JobKind, job: ProviderJob) -> bool:
    t = kind.timings()
    since = job.submit_retry_since
    if t.max_submit_attempts is not None and job.submit_attempts >= t.max_submit_attempts:
        return True
    return (
        t.submit_retry_window is not None
        and since is not None
        and (timezone.now() - since).total_seconds() >= t.submit_retry_window
    )


def retry_submit_later(
    kind: JobKind, job: ProviderJob, exc: WaveSpeedError, *, retry_after: float | None = None
) -> None:
    """Nothing was created at WaveSpeed: send again after a backoff, while the kind's tries
    and window last (the window from the first failure). A hold stays held."""
    t = kind.timings()
    now = timezone.now()
    since = job.submit_retry_since or now
    if _retry_window_over(kind, job):
        minutes = (now - since).total_seconds() / 60
        kind.on_failure(
            job.pk,
            Failure(
                Reason.NOT_TAKEN,
                exc.kind,
                f"WaveSpeed did not take the request for {minutes:.0f} minutes "
                f"({job.submit_attempts} tries), so it was given up; nothing was charged. "
                f"Last answer: {exc.message}",
                error=exc,
            ),
        )
        return
    delay = timing.backoff(
        job.submit_attempts,
        base=t.submit_retry_base,
        cap=t.submit_retry_cap,
        retry_after=retry_after,
    )
    logger.info("%s %s: submit retried in %.1f s: %s", kind.name, job.pk, delay, exc)
    with transaction.atomic():
        if (
            kind.rows()
            .filter(kind.awaiting_submit(), pk=job.pk)
            .update(
                submit_claimed_at=None,
                submit_retry_since=since,
                next_step_at=timing.due_at(delay),
                **kind.touch(),
                **kind.note_fields(
                    exc.kind,
                    f"Waiting for WaveSpeed, which is not taking requests right now "
                    f"({exc.message}). Trying again in {delay:.0f} s; your budget hold is kept.",
                ),
            )
        ):
            schedule_submit(kind, job.pk, delay)


def count_attempt(kind: JobKind, job: ProviderJob) -> None:
    """Count a try that failed before the claim (an upload in `prepare`), so it cannot retry
    forever."""
    kind.rows().filter(pk=job.pk).update(submit_attempts=F("submit_attempts") + 1)
    job.submit_attempts += 1


def adopt(kind: JobKind, job: ProviderJob, prediction: Prediction) -> None:
    """Record that WaveSpeed holds this job as `prediction`, and start following it.

    The prediction id exists nowhere else yet (WaveSpeed bills it whether or not we remember
    it), so it is logged at once, and a write that fails on a lost database connection is
    tried again on a fresh one, then handed to a task that carries the id through the broker.
    """
    logger.info(
        "submit_accepted %s=%s model=%s prediction=%s",
        kind.name,
        job.pk,
        kind.model_of(job),
        prediction.id,
    )
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            record_prediction(kind, job.pk, prediction.id, job=job)
            return
        except (OperationalError, InterfaceError) as exc:
            logger.warning(
                "submit_record_retry %s=%s prediction=%s attempt=%s error=%r",
                kind.name,
                job.pk,
                prediction.id,
                attempt,
                exc,
            )
            if connection.in_atomic_block:
                raise  # not ours to reconnect (a caller's transaction)
            connection.close()  # the next try opens a fresh connection
            if attempt < RECORD_TRIES:
                time.sleep(min(0.25 * 2**attempt, 4.0))
    logger.error(
        "submit_unrecorded %s=%s prediction=%s: the database is unreachable; a task will record it",
        kind.name,
        job.pk,
        prediction.id,
    )
    schedule_record(kind, job.pk, prediction.id, RECORD_RETRY_TASK_DELAY_SECONDS)


def record_prediction(
    kind: JobKind, job_id: int, prediction_id: str, *, job: ProviderJob | None = None
) -> bool:
    """Move a job WaveSpeed accepted as `prediction_id` to followed and queue its first poll.
    `job`: the row as the submit claimed it, when the caller has it (else it is read when
    its typical run time is needed).

    Idempotent through the row's state: a job that already holds this prediction is left
    alone; one still waiting (or one its kind lets adopt it otherwise) adopts it."""
    t = kind.timings()
    typical = None
    if not webhooks.webhooks_enabled():  # with webhooks the first poll waits for expected_run
        if job is None:
            job = kind.rows().filter(pk=job_id).first()
        typical = kind.typical_run_seconds(job) if job is not None else None
    first_poll = timing.first_poll_delay(
        expected=t.expected_run, first=t.poll_first, typical=typical
    )
    # Batched, the move is the whole step (one conditional UPDATE, no task to queue with it):
    # no transaction around it. Otherwise the poll task is queued on the move's commit.
    batched = batch_polling()
    with contextlib.nullcontext() if batched else transaction.atomic():
        moved = kind.start_following(
            job_id,
            {
                "provider_id": prediction_id,
                "submitted_at": timezone.now(),
                "submit_claimed_at": None,
                "submit_retry_since": None,
                "error_kind": "",
                "next_step_at": timing.due_at(first_poll),
            },
        )
        if moved:
            if not batched:  # batched, the tick reads `next_step_at`: no task, no seq
                seq = kind.rows().values_list("poll_seq", flat=True).get(pk=job_id)
                schedule_follow(kind, job_id, seq, first_poll)
            return True
    holder = kind.rows().filter(pk=job_id).values_list("provider_id", flat=True)
    if holder.first() != prediction_id:
        logger.error(
            "%s %s got prediction %s but was no longer waiting", kind.name, job_id, prediction_id
        )
    return False


# --- Reconcile --------------------------------------------------------------------------------
def reconcile(kind: JobKind, job_id: int) -> None:
    """Settle a submit whose answer was lost, through the provider's prediction history.

    Found there: adopt it. Certainly absent: send again. The history cannot tell (its items carry
    no `input`, or it cannot be read): the kind's `needs_attention` rather than risk a second,
    billed run.
    """
    job = (
        kind.rows()
        .filter(
            kind.awaiting_submit(),
            pk=job_id,
            provider_id__isnull=True,
            submit_claimed_at__isnull=False,
        )
        .first()
    )
    if job is None:
        return
    claimed_at = job.submit_claimed_at
    try:
        verdict = _search_history(kind, job)
    except WaveSpeedError as exc:
        if exc.permanent or _retry_window_over(kind, job):
            kind.needs_attention(job, f"the prediction history could not be read ({exc})")
            return
        kind.rows().filter(pk=job.pk).update(submit_attempts=F("submit_attempts") + 1)
        delay = timing.backoff(
            job.submit_attempts + 1,
            base=RECONCILE_DELAY_SECONDS,
            cap=RECONCILE_RETRY_CAP_SECONDS,
        )
        with transaction.atomic():
            kind.rows().filter(pk=job.pk, submit_claimed_at=claimed_at).update(
                next_step_at=timing.due_at(delay),
                **kind.note_fields(
                    "",
                    "Waiting for WaveSpeed: checking whether it received the request "
                    f"({exc.message}).",
                ),
            )
            schedule_reconcile(kind, job.pk, delay)
        return
    if verdict.found is not None:
        logger.info("%s %s found in history as %s", kind.name, job.pk, verdict.found.id)
        adopt(kind, job, verdict.found)
    elif verdict.absent:
        # The history shows every prediction of that time with its input, and none is ours:
        # safe to send again (counts as an attempt).
        retry_submit_later(
            kind,
            job,
            NetworkError(
                "WaveSpeed's history shows that the earlier request did not arrive",
                maybe_sent=False,
            ),
        )
    else:
        kind.needs_attention(job, verdict.why)


def _search_history(kind: JobKind, job: ProviderJob) -> HistoryVerdict:
    """Look for the request among the predictions WaveSpeed created since just before the
    claim, skipping those that other jobs of this kind own."""

    def taken(prediction_ids: list[str]) -> set[str]:
        owned = (
            kind.rows()
            .filter(provider_id__in=prediction_ids)
            .exclude(pk=job.pk)
            .values_list("provider_id", flat=True)
        )
        return {prediction_id for prediction_id in owned if prediction_id}

    return search_history(
        get_client(),
        model=kind.model_of(job),
        payload=kind.payload(job),
        since=(job.submit_claimed_at or job.created_at) - HISTORY_SKEW,
        taken=taken,
    )


# --- Follow -----------------------------------------------------------------------------------
def follow(kind: JobKind, job_id: int, seq: int) -> None:
    """One look at the prediction. `seq` is the `poll_seq` this step expects: claiming the row
    advances it, so a duplicated step finds nothing to do."""
    job = update_returning(
        kind.rows().filter(kind.followed(), pk=job_id, poll_seq=seq),
        poll_seq=seq + 1,
        poll_count=F("poll_count") + 1,
        **kind.touch(),
    )
    if job is None:
        return
    assert job.provider_id is not None  # followed rows hold one
    try:
        prediction = get_client().get_result(job.provider_id)
    except WaveSpeedError as exc:
        _poll_failed(kind, job, exc)
        return
    if prediction.is_final:
        apply_final(kind, job, prediction, via="poll")
    else:
        _still_running(kind, job, prediction)


def apply_final(kind: JobKind, job: ProviderJob, prediction: Prediction, *, via: str) -> None:
    """Apply a final prediction, from a poll or a webhook, to a job its caller claimed. The
    kind's moves only leave a followed state, so applying it twice changes nothing."""
    if prediction.is_completed:
        kind.on_success(job, prediction, via=via)
        return
    reason = prediction.error or f"The prediction ended as '{prediction.status}'."
    code = f" (code {prediction.error_code})" if prediction.error_code else ""
    kind.on_failure(
        job.pk,
        Failure(
            Reason.PREDICTION,
            "prediction",
            f"WaveSpeed could not finish it{code}: {reason}",
            prediction=prediction,
            via=via,
            followed=True,
        ),
    )


def still_claimed(kind: JobKind, job: ProviderJob) -> QuerySet[ProviderJob]:
    """The row, if this step's claim still holds: a webhook applied meanwhile (advancing
    `poll_seq`, ending the job) must not get a next poll or lose its fields."""
    return kind.rows().filter(kind.followed(), pk=job.pk, poll_seq=job.poll_seq)


def next_poll_delay(kind: JobKind, job: ProviderJob, prediction: Prediction) -> float:
    """The wait before the next look at a prediction still running: the kind's growing
    schedule, shorter once WaveSpeed is working on it, never under the webhook grace."""
    t = kind.timings()
    delay = timing.poll_delay(
        job.poll_count + 1, first=t.poll_first, factor=t.poll_factor, cap=t.poll_cap
    )
    if prediction.status == "processing":
        now = timezone.now()
        working = (now - (job.processing_at or now)).total_seconds()
        delay = min(delay, timing.processing_poll_cap(working))
    # With webhooks on, polls are the fallback: never closer together than the grace.
    return max(delay, timing.fallback_poll_floor())


def _gave_up(kind: JobKind, job: ProviderJob, status: str) -> bool:
    """True (and the job failed) when it has been followed longer than the kind waits."""
    give_up = kind.timings().give_up
    started = job.submitted_at or job.created_at
    if (timezone.now() - started).total_seconds() <= give_up:
        return False
    hours = give_up / 3600
    waited = f"{hours:.0f} hours" if hours >= 1 else f"{give_up:.0f} s"
    kind.on_failure(
        job.pk,
        Failure(
            Reason.GAVE_UP,
            "timeout",
            f"WaveSpeed had not finished after {waited} (status '{status}'); gave up following it.",
            followed=True,
        ),
    )
    return True


def _still_running(kind: JobKind, job: ProviderJob, prediction: Prediction) -> None:
    if _gave_up(kind, job, prediction.status):
        return
    delay = next_poll_delay(kind, job, prediction)
    with transaction.atomic():
        if prediction.status == "processing":
            kind.note_processing(job, timezone.now())
        if still_claimed(kind, job).update(
            next_step_at=timing.due_at(delay),
            poll_errors=0,
            **kind.note_fields("", ""),
        ):
            schedule_follow(kind, job.pk, job.poll_seq, delay)


def _poll_failed(kind: JobKind, job: ProviderJob, exc: WaveSpeedError) -> None:
    t = kind.timings()
    errors = job.poll_errors + 1
    if isinstance(exc, NotFoundError) and job.error_kind != NOT_FOUND:
        # The first 404 for a prediction WaveSpeed accepted: read it once more before failing.
        logger.warning("%s %s: WaveSpeed answered 404; reading it again", kind.name, job.pk)
        with transaction.atomic():
            if still_claimed(kind, job).update(
                poll_errors=errors,
                error_kind=NOT_FOUND,
                next_step_at=timing.due_at(NOT_FOUND_CONFIRM_SECONDS),
            ):
                schedule_follow(kind, job.pk, job.poll_seq, NOT_FOUND_CONFIRM_SECONDS)
        return
    if exc.permanent or errors > t.max_poll_errors:
        kind.on_failure(
            job.pk,
            Failure(
                Reason.POLL,
                exc.kind,
                f"Could not read the prediction's result from WaveSpeed: {exc.message}",
                error=exc,
                followed=True,
            ),
        )
        return
    if _gave_up(kind, job, "unknown"):
        return
    retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
    delay = timing.backoff(
        errors, base=t.poll_error_base, cap=t.poll_error_cap, retry_after=retry_after
    )
    logger.warning("Poll %s of %s %s failed: %s", errors, kind.name, job.pk, exc)
    with transaction.atomic():
        if still_claimed(kind, job).update(
            poll_errors=errors, error_kind="", next_step_at=timing.due_at(delay)
        ):
            schedule_follow(kind, job.pk, job.poll_seq, delay)


# --- Webhooks ---------------------------------------------------------------------------------
class Applied(StrEnum):
    """What the receiver did with a verified webhook delivery."""

    APPLIED = "applied"  # a followed job's end, applied as a poll's answer would be
    UNKNOWN = "unknown"  # no job holds this prediction (yet, or ever)
    IGNORED = "ignored"  # already ended (or changed under us), or not final


def _holder(prediction: Prediction) -> tuple[JobKind, int, bool] | None:
    """(kind, job id, whether it is followed) of the job holding this prediction."""
    for kind in kinds():
        found = (
            kind.rows()
            .filter(provider_id=prediction.id)
            .annotate(is_followed=Q(kind.followed()))
            .values_list("pk", "is_followed")
            .first()
        )
        if found is not None:
            if prediction.model and prediction.model != kind.provider_model:
                return None
            return kind, found[0], bool(found[1])
    return None


def webhook_receive(headers: Mapping[str, str], body: bytes) -> Applied:
    """Verify a WaveSpeed webhook delivery, record it, and apply a followed job's end, in one
    transaction: the receipt (one INSERT), the claim (one UPDATE … RETURNING that finds the job
    by its prediction and advances `poll_seq`, as a poll's claim does) and the kind's move.
    Raises WebhookRejected (or WebhookReplayed) and SecretUnavailable as `webhooks.receive`
    does.

    Applied here rather than handed to a task: a hand-off cost a publish in the request, then a
    Celery task that found and claimed the row again (bench/README.md, `jobs_in_flight.py`).
    Whatever the kind queues (a generation's save) is published after the commit. A failure
    rolls the receipt back with the rest, so WaveSpeed's next try is accepted; if the process
    dies before answering, the retry is applied (the receipt was never committed) or, once the
    end is applied, finds the job ended. The fallback poll (and the sweeper) still read any end
    that no delivery brought."""
    with transaction.atomic():
        delivery = webhooks.receive(headers, body)
        prediction = delivery.prediction
        outcome = Applied.IGNORED
        if prediction.is_final:
            outcome = _apply_delivered(prediction)
    logger.info(
        "webhook %s prediction=%s status=%s: %s",
        delivery.webhook_id,
        prediction.id,
        prediction.status,
        outcome.value,
    )
    return outcome


def _apply_delivered(prediction: Prediction) -> Applied:
    """Claim the followed job holding this final prediction and apply its end; else say why
    not (no job holds it, or it is no longer followed)."""
    for kind in kinds():
        if prediction.model and prediction.model != kind.provider_model:
            continue  # not this kind's prediction: an id under another model is not ours
        job = update_returning(
            kind.rows().filter(kind.followed(), provider_id=prediction.id),
            poll_seq=F("poll_seq") + 1,
            **kind.touch(),
        )
        if job is not None:
            apply_final(kind, job, prediction, via="webhook")
            return Applied.APPLIED
    return Applied.UNKNOWN if _holder(prediction) is None else Applied.IGNORED


def apply_webhook(kind: JobKind, job_id: int, prediction: Prediction) -> bool:
    """A prediction's end as WaveSpeed's webhook told it: applied exactly as a poll's answer.
    True when it was applied. (The `apply_webhook_result` task's: messages a receiver queued
    before the receiver applied deliveries itself.)

    Claimed like a poll, by advancing `poll_seq`, so the poll waiting as the fallback (and any
    poll restarted by the sweeper) finds its claim gone and does nothing; a duplicate or late
    delivery finds the job ended and changes nothing, and a poll that was already asking
    WaveSpeed finds it ended when it applies its answer. Safe to run twice."""
    if not prediction.is_final:
        return False
    job = update_returning(
        kind.rows().filter(kind.followed(), pk=job_id, provider_id=prediction.id),
        poll_seq=F("poll_seq") + 1,
        **kind.touch(),
    )
    if job is None:
        return False
    apply_final(kind, job, prediction, via="webhook")
    return True


# --- Sweep ------------------------------------------------------------------------------------
def sweep() -> dict[str, int]:
    """Resume every job whose next step was lost (a dead worker, a lost message, a new broker),
    for every kind: the periodic sweeper's one task. Each step claims its row before acting, so
    a step queued twice still runs once."""
    counts: dict[str, int] = {}
    busy = submit_queue_busy()  # one look at the broker for every kind (one submit queue)
    for kind in kinds():
        for step, count in sweep_kind(kind, submit_busy=busy).items():
            counts[step] = counts.get(step, 0) + count
    webhooks.forget_old_receipts()
    return counts


def sweep_kind(kind: JobKind, *, submit_busy: bool | None = None) -> dict[str, int]:
    t = kind.timings()
    now = timezone.now()
    stale = now - timedelta(seconds=t.stale_after)
    lease = now - timedelta(seconds=t.submit_lease)
    jobs = kind.rows()
    prefix = f"{kind.name}_"
    counts = {f"{prefix}{step}": 0 for step in ("submit", "reconcile", "follow", "given_up")}

    if t.give_up_unfinished is not None:
        limit = now - timedelta(seconds=t.give_up_unfinished)
        for job_id in jobs.filter(
            kind.awaiting_submit() | kind.followed(), created_at__lt=limit
        ).values_list("pk", flat=True):
            failure = Failure(
                Reason.GAVE_UP,
                "timeout",
                f"WaveSpeed had not finished after {t.give_up_unfinished:.0f} s; stopped waiting.",
            )
            counts[f"{prefix}given_up"] += kind.on_failure(job_id, failure)

    awaiting = jobs.filter(kind.awaiting_submit(), provider_id__isnull=True, next_step_at__lt=stale)
    # Submits and reconciles wait in the submit queue: while it holds messages, a late one is
    # most likely waiting its turn there (a backlog), so nothing is queued twice; a message
    # that was really lost is queued again once the queue has drained. (Polls queue no task
    # each when batched, and a claimed step's row says so itself.)
    if submit_queue_busy() if submit_busy is None else submit_busy:
        awaiting = awaiting.none()
    for pk in awaiting.filter(submit_claimed_at__isnull=True).values_list("pk", flat=True):
        schedule_submit(kind, pk)
        counts[f"{prefix}submit"] += 1

    # A claim this old with no answer recorded: the worker died mid-request, so the request
    # may have arrived. Never resend blindly: ask the history (or fail, saying so).
    for job in awaiting.filter(submit_claimed_at__lt=lease):
        if t.reconcile_lost_submits:
            schedule_reconcile(kind, job.pk)
        else:
            kind.on_failure(
                job.pk,
                Failure(
                    Reason.LOST_SUBMIT,
                    "unknown_submit",
                    "Darkroom lost track of the request while sending it to WaveSpeed; it may "
                    "have arrived.",
                ),
            )
        counts[f"{prefix}reconcile"] += 1

    # With batched polling a late poll is simply due: the next tick takes it.
    late = jobs.filter(kind.followed(), next_step_at__lt=stale).values_list("pk", "poll_seq")
    for pk, seq in [] if batch_polling() else late:
        schedule_follow(kind, pk, seq, 0)
        counts[f"{prefix}follow"] += 1
    return {**counts, **kind.sweep_extra()}


def submit_queue_busy() -> bool:
    """Whether submit steps are waiting in the broker (a backlog, not a loss)."""
    from .tasks import submit_job

    return bool(timing.messages_waiting(submit_job.name))


# --- Batched polling --------------------------------------------------------------------------
def _claim_due(kind: JobKind, now: datetime, limit: int) -> list[ProviderJob]:
    """Claim up to `limit` followed jobs whose poll is due, as a poll task claims one (advancing
    `poll_seq`), and push their `next_step_at` past a lease so the next tick leaves them to
    this one; a tick that dies leaves them due again once the lease is over."""
    lease = settings.WAVESPEED_CONNECT_TIMEOUT + settings.WAVESPEED_READ_TIMEOUT + 15
    with transaction.atomic():
        due = list(
            kind.rows()
            .select_for_update(skip_locked=True)
            .filter(kind.followed(), next_step_at__lte=now)
            .order_by("next_step_at")[:limit]
        )
        if due:
            kind.rows().filter(pk__in=[job.pk for job in due]).update(
                poll_seq=F("poll_seq") + 1,
                poll_count=F("poll_count") + 1,
                next_step_at=now + timedelta(seconds=lease),
                **kind.touch(),
            )
    for job in due:
        job.poll_seq += 1
        job.poll_count += 1
    return due


# The one statement an idle tick runs, compiled once per process: is any followed job of any
# kind due by the tick's `now` (the app's clock, as _claim_due's)? Compiled with _DUE_MARK in
# place of `now`; the positions of its parameters are replaced by each call's `now`.
_due_check: dict[tuple[str, ...], tuple[str, tuple[Any, ...], tuple[int, ...]]] = {}
_DUE_MARK = datetime(2000, 1, 1, 0, 0, 0, 424242, tzinfo=UTC)


def _anything_due(now: datetime) -> bool:
    """Whether any followed job of any kind is due at `now`: one small statement, so a tick
    with nothing to do (most ticks, with webhooks) costs little."""
    key = tuple(_kinds)
    compiled = _due_check.get(key)
    if compiled is None:
        parts: list[str] = []
        params: list[Any] = []
        for kind in kinds():
            due = kind.rows().filter(kind.followed(), next_step_at__lte=_DUE_MARK)
            sql, sql_params = due.values("pk")[:1].query.sql_with_params()
            parts.append(f"EXISTS ({sql})")
            params.extend(sql_params)
        mark = connection.ops.adapt_datetimefield_value(_DUE_MARK)
        at = tuple(i for i, value in enumerate(params) if value == mark)
        if len(at) != len(parts):
            raise RuntimeError(f"The due check has {len(at)} places for now, not {len(parts)}.")
        compiled = _due_check[key] = ("SELECT " + " OR ".join(parts), tuple(params), at)
    sql, fixed, at = compiled
    params = list(fixed)
    for index in at:
        params[index] = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row and row[0])


Answer = Prediction | WaveSpeedError | None


def _fetch_all(prediction_ids: list[str]) -> dict[str, Answer]:
    """Each prediction's state, asked concurrently through the one pooled client, at most
    POLL_CONCURRENCY requests in flight. After a 429 no further request is sent this tick:
    the rest answer None (not asked)."""
    client = get_client()
    limited = threading.Event()

    def ask(prediction_id: str) -> tuple[str, Answer]:
        if limited.is_set():
            return prediction_id, None
        try:
            return prediction_id, client.get_result(prediction_id)
        except RateLimitError as exc:
            limited.set()
            return prediction_id, exc
        except WaveSpeedError as exc:
            return prediction_id, exc

    workers = max(1, min(int(settings.POLL_CONCURRENCY), len(prediction_ids)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
        return dict(pool.map(ask, prediction_ids))


def poll_due() -> dict[str, int]:
    """One tick of batched polling: every followed job (of every kind) whose poll is due is
    claimed, asked about concurrently, and its answer applied: an end as a poll task applies
    it, an error as a poll task's error, and the next polls of those still running recorded in
    one UPDATE per kind. Does nothing when POLL_BATCH is off."""
    counts = {"polled": 0, "ended": 0, "running": 0, "errors": 0, "not_asked": 0}
    now = timezone.now()
    if not batch_polling() or not _anything_due(now):
        return counts
    limit = int(settings.POLL_BATCH_LIMIT)
    claimed: list[tuple[JobKind, ProviderJob]] = []
    for kind in kinds():
        claimed += [(kind, job) for job in _claim_due(kind, now, limit - len(claimed))]
        if len(claimed) >= limit:
            break
    if not claimed:
        return counts
    answers = _fetch_all([job.provider_id or "" for _, job in claimed])
    retry_after = next(
        (a.retry_after for a in answers.values() if isinstance(a, RateLimitError)), None
    )
    waits: dict[str, list[tuple[ProviderJob, float]]] = {}
    processing: dict[str, list[ProviderJob]] = {}
    for kind, job in claimed:
        answer = answers.get(job.provider_id or "")
        if answer is None:
            # Not asked (the account's rate limit): due again after the wait, no error counted.
            delay = timing.jittered(retry_after or settings.POLL_MIN_SECONDS)
            waits.setdefault(kind.name, []).append((job, delay))
            counts["not_asked"] += 1
            continue
        counts["polled"] += 1
        if isinstance(answer, WaveSpeedError):
            counts["errors"] += 1
            _poll_failed(kind, job, answer)
        elif answer.is_final:
            counts["ended"] += 1
            apply_final(kind, job, answer, via="poll")
        elif not _gave_up(kind, job, answer.status):
            counts["running"] += 1
            if answer.status == "processing":
                processing.setdefault(kind.name, []).append(job)
            waits.setdefault(kind.name, []).append((job, next_poll_delay(kind, job, answer)))
    for name, started in processing.items():
        kind_named(name).note_processing_many(started, now)
    for name, jobs in waits.items():
        _record_next_polls(kind_named(name), jobs)
    # The tick's Celery lines are filtered out (config/logs.py): this is its one line, and
    # only when it asked about something.
    logger.info(
        "poll tick: %(polled)s asked, %(ended)s ended, %(running)s running, "
        "%(errors)s errors, %(not_asked)s not asked",
        counts,
    )
    return counts


def _record_next_polls(kind: JobKind, waits: list[tuple[ProviderJob, float]]) -> None:
    """One UPDATE: each job's next poll, only where this tick's claim still holds (a webhook
    applied meanwhile has advanced `poll_seq` and ended the job)."""
    still_ours = Q()
    for job, _ in waits:
        still_ours |= Q(pk=job.pk, poll_seq=job.poll_seq)
    due = Case(
        *[When(pk=job.pk, then=Value(timing.due_at(delay))) for job, delay in waits],
        output_field=DateTimeField(),
    )
    kind.rows().filter(kind.followed()).filter(still_ours).update(
        next_step_at=due, poll_errors=0, **kind.note_fields("", "")
    )
