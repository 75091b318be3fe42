"""Fast inserts for seed_demo and import_cohort: COPY on PostgreSQL, executemany on SQLite.

Rows are plain tuples in the order of the column names given (database column names, e.g.
`patient_id`), so that generating 300,000 patients builds no model instance. The schema stays
as it is (indexes and constraints are checked by the database as usual; import_cohort may check
its foreign keys per chunk instead, see reports.references); only the transport changes.
Primary keys are reserved beforehand so that children can reference their parents in the same
pass.

Values: ints, strs, bools, None, dates, and datetimes from `now_value()`; JSON columns take
the JSON text (`json.dumps(...)`). Nothing here writes simple_history rows: bulk rows never
had any (bulk_create does not send the signals either).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from psycopg.copy import Copy, FileWriter


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def now_value() -> datetime | str:
    """The current time as the database driver wants it for a datetime column."""
    now = timezone.now()
    if is_postgresql():
        return now
    return connection.ops.adapt_datetimefield_value(now)


def fast_session() -> None:
    """For a seed or an import inside transaction.atomic: do not wait for the WAL flush at
    commit (the data is regenerated or re-imported if the server crashes right then)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def reserve_ids(model: type[Model], count: int, cursor=None) -> list[int]:
    """`count` primary keys for new rows of `model`, taken from its sequence (PostgreSQL) or
    after the largest id (SQLite: call inside the writing transaction). On PostgreSQL a cursor
    of another connection may be given (sequences are not transactional)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    if cursor is not None:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk, count],
        )
        return [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"'  # noqa: S608
        )
        first = cursor.fetchone()[0] + 1
        # AUTOINCREMENT tables never reuse an id: start after the highest ever given too.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        if row is not None:
            first = max(first, row[0] + 1)
        return list(range(first, first + count))


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert the rows (tuples in the order of `columns`); returns how many were written."""
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if is_postgresql():
            return copy_rows(cursor.cursor, model, columns, rows)
        marks = ", ".join(["%s"] * len(columns))
        batch: list[Sequence] = []
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def copy_rows(cursor, model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """PostgreSQL: COPY the rows through a psycopg cursor (usable from another thread than
    Django's, e.g. import_cohort's writer); returns how many were written."""
    names = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy:
        write = copy.write_row
        for row in rows:
            write(row)
            count += 1
    return count


def copy_payload(conn, rows: Iterable[Sequence]) -> bytes:
    """PostgreSQL: the rows in COPY text format, formatted by psycopg with the adapters of
    the psycopg connection `conn`, without sending anything; see copy_bytes."""
    out = io.BytesIO()
    with conn.cursor() as cursor, Copy(cursor, binary=False, writer=FileWriter(out)) as copy:
        write = copy.write_row
        for row in rows:
            write(row)
    return out.getvalue()


def copy_bytes(cursor, model: type[Model], columns: Sequence[str], payload: bytes) -> None:
    """PostgreSQL: COPY a payload made by copy_payload. Sending bytes needs almost no Python,
    so a thread doing it leaves the interpreter to the thread that prepares the next one."""
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy:
        copy.write(payload)


def update_column(model: type[Model], column: str, values: Sequence[tuple[int, object]]) -> None:
    """Set `column` row by row from (pk, value) pairs: one UPDATE from a COPY-filled temporary
    table on PostgreSQL, executemany elsewhere."""
    if not values:
        return
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(
                f'CREATE TEMPORARY TABLE "_bulk_update" (id bigint, value '  # noqa: S608
                f"{_column_type(model, column)}) ON COMMIT DROP"
            )
            with cursor.cursor.copy('COPY "_bulk_update" (id, value) FROM STDIN') as copy:
                for row in values:
                    copy.write_row(row)
            cursor.execute(
                f'UPDATE "{table}" SET "{column}" = u.value FROM "_bulk_update" u '  # noqa: S608
                f'WHERE "{table}"."{pk}" = u.id'
            )
            cursor.execute('DROP TABLE "_bulk_update"')
            return
        cursor.executemany(
            f'UPDATE "{table}" SET "{column}" = %s WHERE "{pk}" = %s',  # noqa: S608
            [(value, key) for key, value in values],
        )


def _column_type(model: type[Model], column: str) -> str:
    for field in model._meta.concrete_fields:
        if field.column == column:
            return field.db_type(connection)
    raise ValueError(f"{model.__name__} has no column {column!r}")


def datetime_value(value: datetime) -> datetime | str:
    """An aware datetime as the database driver wants it (see now_value)."""
    if is_postgresql():
        return value
    return connection.ops.adapt_datetimefield_value(value)


# Column orders of the rows that seed_demo and import_cohort write (database column names).
PATIENT_COLUMNS = (
    "id",
    "code",
    "prescriber_id",
    "sex",
    "birth_year",
    "inclusion_date",
    "protocol_version",
    "indication",
    "treatment_status",
    "pretreatment_dose_mg",
    "failed_treatments",
    "precautions",
    "alcohol_g_per_day",
    "craving",
    "abstinent",
    "psychosocial_care",
    "informed_of_rtu",
    "latest_dose_mg",
    "last_visit_date",
    "in_titration",
    "stopped_on",
    "created_at",
    "updated_at",
)
VISIT_COLUMNS = (
    "id",
    "patient_id",
    "visit_date",
    "is_inclusion",
    "protocol_version",
    "daily_dose_mg",
    "dose_morning_mg",
    "dose_noon_mg",
    "dose_evening_mg",
    "dose_bedtime_mg",
    "alcohol_g_per_day",
    "craving",
    "abstinent",
    "second_opinion",
    "second_opinion_date",
    "second_opinion_by",
    "collegial_opinion",
    "collegial_opinion_date",
    "collegial_opinion_by",
    "multidisciplinary_care",
    "multidisciplinary_care_date",
    "multidisciplinary_care_by",
    "note",
    "warnings_acknowledged",
    "version",
    "created_by_id",
    "created_at",
    "updated_at",
)
STOP_COLUMNS = (
    "id",
    "patient_id",
    "stop_date",
    "reason",
    "note",
    "restarted_on",
    "restart_note",
    "created_by_id",
    "created_at",
)
STEP_COLUMNS = ("patient_id", "visit_id", "stop_id", "start_date", "daily_dose_mg")
EVENT_COLUMNS = (
    "patient_id",
    "reported_by_id",
    "onset_date",
    "term_id",
    "reporter_term",
    "organ_class",
    "description",
    "serious",
    "seriousness_criteria",
    "outcome",
    "causality",
    "action_taken",
    "dechallenge",
    "rechallenge",
    "dose_at_onset_mg",
    "protocol_version",
    "crpv_id",
    "received_on",
    "due_on",
    "notified_at",
    "version",
    "created_at",
    "updated_at",
)

# Intake slots used for 2, 3 and 4 intakes a day (morning, noon, evening, bedtime).
_SLOTS = {1: (0,), 2: (0, 2), 3: (0, 1, 2), 4: (0, 1, 2, 3)}
_INTAKES: dict[int, tuple[int, int, int, int]] = {}


def split_intakes(dose_mg: int) -> tuple[int, int, int, int]:
    """Morning, noon, evening and bedtime doses adding up to the daily dose: 2 intakes below
    30 mg/day, 3 up to 90, 4 above, each a multiple of 5 mg, the larger ones first."""
    found = _INTAKES.get(dose_mg)
    if found is not None:
        return found
    units, rest = divmod(dose_mg, 5)
    if rest or units < 2:
        found = (dose_mg, 0, 0, 0)
    else:
        count = min(units, 2 if dose_mg < 30 else 3 if dose_mg <= 90 else 4)
        base, extra = divmod(units, count)
        doses = [0, 0, 0, 0]
        for index, slot in enumerate(_SLOTS[count]):
            doses[slot] = 5 * (base + (1 if index < extra else 0))
        found = (doses[0], doses[1], doses[2], doses[3])
    _INTAKES[dose_mg] = found
    return found
