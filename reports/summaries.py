"""PatientSummary and PatientFindings: each patient's report figures, kept at write time.

`summaries_refresh` recomputes the rows of some patients (or of all) from the clinical tables
with the very SQL the report runs for patients without a row (reports.statistics.facts_sql and
findings_sql, with no end date), so both ways give the same figures by construction. The
services call it in the transaction of every write that changes a patient's figures, after
locking the patient row (prescriptions.services._lock), so that two writes on one patient
cannot leave the older figures in place; the seed calls it once, in bulk. The import leaves its
patients without summaries (they would cost it a quarter of its time) and has
`summaries_refresh_missing` run by a worker once it has committed; Celery beat runs it too, every
few minutes, for any patient left without one. Until then the report computes those patients
from the clinical tables: the figures are the same, only slower to get.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from patients.models import Patient
from reports import statistics
from reports.models import PatientFindings, PatientSummary
from rtuportal.queries import preparing_cursor

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
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
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
    done = 0
    missing = Patient.objects.filter(
        ~Exists(PatientSummary.objects.filter(patient=OuterRef("pk")))
    ).order_by("pk")
    while True:
        with transaction.atomic():
            ids = list(missing.select_for_update(of=("self",)).values_list("pk", flat=True)[:batch])
            if not ids:
                return done
            with connection.cursor() as cursor:
                for sql, params in refresh_statements(ids):
                    cursor.execute(sql, params)
        done += len(ids)
