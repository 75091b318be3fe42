"""PatientSummary and PatientFindings: each patient's report figures, kept near write time.

`summaries_refresh` recomputes the rows of some patients (or of all) from the clinical tables
with the very SQL the report runs for patients without a usable row (reports.statistics.facts_sql
and findings_sql, with no end date), so both ways give the same figures by construction.

A service that changes a patient's figures does not recompute them in its transaction: it marks
the patient's summary `stale` (`summaries_mark_stale`, one statement, after locking the patient
row), and once it has committed a worker recomputes every stale row in one batch a few seconds
later (`summaries_refresh_stale`, queued by `request_stale_refresh`, at most one job pending;
Celery beat runs it every minute too, in case the queueing failed). The report never reads a
stale row: it computes that patient from the clinical tables, with the same figures. On the
2026-12-03 machine the one-patient recomputation cost every visit save about 4.5 ms of
PostgreSQL CPU (and about 2 ms of the app's, profiled); the worker's batch of 150 patients (5 s
of saves at 150 requests/s) costs 0.07-0.09 s of PostgreSQL CPU, an eighth of what 150 saves
spent on it.

The seed writes every row in bulk. The import leaves its patients without summaries (they would
cost it a quarter of its time) and has `summaries_refresh_missing` run by a worker once it has
committed; beat runs it every few minutes for any patient left without one. Until then the
report computes those patients from the clinical tables.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from patients.models import Patient
from reports import statistics
from reports.models import PatientFindings, PatientSummary
from rtuportal.queries import preparing_cursor

logger = logging.getLogger(__name__)

_FINDING_COLUMNS = ("steps", "blocking_steps", "blocked") + tuple(
    f"n_{c.lower()}" for c in statistics.FINDING_CODES
)


def _patients_where(patient_ids: Iterable[int] | None) -> tuple[str, list]:
    if patient_ids is None:
        return "1 = 1", []
    ids = sorted({int(pk) for pk in patient_ids})
    if len(ids) == 1:  # a service's refresh: its own statement text, prepared (see below)
        return "p.id = %s", ids
    if connection.vendor == "postgresql":
        return "p.id = ANY(%s)", [ids]
    return "p.id IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def refresh_statements(patient_ids: Iterable[int] | None = None) -> list[tuple[str, list]]:
    """The SQL statements (with their parameters) that recompute the summary and findings rows
    of these patients (None: of every patient), for a cursor of the caller's choosing."""
    where, params = _patients_where(patient_ids)
    summary, findings = PatientSummary._meta.db_table, PatientFindings._meta.db_table
    columns = ("patient_id", *statistics.FACT_COLUMNS, "facts_until")
    facts, facts_params = statistics.facts_sql(where, params, None, until=True)
    updates = ", ".join([f"{c} = excluded.{c}" for c in columns[1:]] + ["stale = FALSE"])
    ctes, cte_params = statistics.findings_sql(where, params, None)
    finding_columns = ("patient_id", "version", *_FINDING_COLUMNS)
    owned = "1 = 1" if patient_ids is None else where.replace("p.id", "patient_id")
    # Identifiers come from the models and reports.statistics; values are parameters.
    return [
        (
            f"INSERT INTO {summary} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(columns)} FROM ({facts}) f WHERE 1 = 1 "
            f"ON CONFLICT (patient_id) DO UPDATE SET {updates}",
            facts_params,
        ),
        (f"DELETE FROM {findings} WHERE {owned}", params),  # noqa: S608
        (
            f"WITH {ctes} INSERT INTO {findings} ({', '.join(finding_columns)}) "  # noqa: S608
            f"SELECT {', '.join(finding_columns)} FROM per_version",
            cte_params,
        ),
    ]


@transaction.atomic(savepoint=False)  # inside a service: its transaction, no savepoint
def summaries_refresh(*, patient_ids: Iterable[int] | None = None) -> None:
    """Recompute the summary and findings rows of these patients (None: of every patient)."""
    if patient_ids is not None:
        patient_ids = list(patient_ids)
        if not patient_ids:
            return
    with _cursor(single=patient_ids is not None and len(set(patient_ids)) == 1) as cursor:
        for sql, params in refresh_statements(patient_ids):
            cursor.execute(sql, params)


def _cursor(*, single: bool):
    """A cursor for the refresh statements.

    A service refreshes one patient on every save: PostgreSQL spends most of those statements'
    time planning them (3.3 of 4.5 ms on the 2026-12-02 machine, warm). Their one-patient text
    is bound on the server (a psycopg Cursor instead of Django's client-side binding) and
    prepared on the connection (Django leaves psycopg's automatic preparation off), so that
    PostgreSQL reuses its plan: per-patient index lookups whatever the patient. Bulk refreshes
    (`= ANY` of many ids) keep Django's cursor and are planned for their size every time.
    Either way the cursor is Django's wrapper: queries are logged and counted as usual.
    """
    if not single:
        return connection.cursor()
    return preparing_cursor(connection)


MISSING_BATCH = 20_000


def summaries_refresh_missing(*, batch: int = MISSING_BATCH) -> int:
    """Compute the summaries of the patients who have none, a batch per transaction; returns
    how many patients got one. Each batch locks its patients first (in id order), so that a
    service writing one of them meanwhile is waited for and its write is counted."""
    return _refresh_in_batches(
        Patient.objects.filter(~Exists(PatientSummary.objects.filter(patient=OuterRef("pk")))),
        batch=batch,
    )


def _refresh_in_batches(patients, *, batch: int) -> int:
    """Recompute the summaries of these patients, `batch` of them per transaction, until the
    query finds none; returns how many. Each batch locks its patients first, in id order, so
    that a service writing one of them meanwhile is waited for and its write is counted."""
    done = 0
    locked = patients.order_by("pk").select_for_update(of=("self",)).values_list("pk", flat=True)
    while True:
        with transaction.atomic():
            ids = list(locked[:batch])
            if not ids:
                return done
            with _cursor(single=len(ids) == 1) as cursor:
                for sql, params in refresh_statements(ids):
                    cursor.execute(sql, params)
        done += len(ids)


@functools.cache  # the same text on every save (and so one prepared statement)
def _mark_stale_sql() -> str:
    summary = PatientSummary._meta.db_table
    # A patient without a row yet (new, or imported) gets a stale one, so the refresher finds it.
    return (
        f"INSERT INTO {summary} (patient_id, stopped, ae_any, ae_related, ae_serious, "  # noqa: S608
        "ae_serious_related, stale) VALUES (%s, 0, 0, 0, 0, 0, TRUE) "
        "ON CONFLICT (patient_id) DO UPDATE SET stale = TRUE"
    )


def summaries_mark_stale(*, patient_id: int) -> None:
    """In the transaction of a write that changed the patient's figures, after it locked the
    patient row: the report stops reading the patient's summary, and a worker recomputes it
    once the write has committed."""
    with preparing_cursor(connection) as cursor:
        cursor.execute(_mark_stale_sql(), [patient_id])
    transaction.on_commit(request_stale_refresh)


STALE_BATCH = 5_000
# The refresh runs this long after the first write that asks for it, for every write made
# meanwhile: one batch every few seconds instead of one recomputation per save.
REFRESH_DELAY_SECONDS = 5
REFRESH_QUEUED_KEY = "reports:stale-refresh-queued"
# Past this, a job announced in the cache but never run (lost with its broker) no longer holds
# the next ones back; beat's sweep runs every minute meanwhile.
REFRESH_QUEUED_TIMEOUT = 60


def request_stale_refresh() -> None:
    """After the commit of a write that marked summaries stale: have them recomputed soon.

    With a broker, one job is queued for every write of the next REFRESH_DELAY_SECONDS (a key
    in the cache says one is pending; the job deletes it before it reads the stale rows, so a
    write committed after that read queues the next job). Without one (tasks in-process) the
    rows are recomputed at once. Never fails the request: the write has committed, a stale row
    is only slower for the report, and beat's sweep recomputes it within a minute.
    """
    from celery import current_app

    from reports.tasks import refresh_stale_summaries

    try:
        if current_app.conf.task_always_eager:
            summaries_refresh_stale()
            return
        if cache.add(REFRESH_QUEUED_KEY, 1, timeout=REFRESH_QUEUED_TIMEOUT):
            try:
                refresh_stale_summaries.apply_async(countdown=REFRESH_DELAY_SECONDS)
            except Exception:
                cache.delete(REFRESH_QUEUED_KEY)
                raise
    except Exception as exc:  # noqa: BLE001 - broker or cache down: beat's sweep catches up
        logger.warning("stale report summaries not queued for a refresh: %s", exc)


def summaries_refresh_stale(*, batch: int = STALE_BATCH) -> int:
    """Recompute the stale summaries, a batch per transaction; returns how many (a write that
    comes after a batch has locked its patient marks the row stale again)."""
    return _refresh_in_batches(
        Patient.objects.filter(
            pk__in=PatientSummary.objects.filter(stale=True).values("patient_id")
        ),
        batch=batch,
    )
