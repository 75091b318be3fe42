"""Foreign keys of a bulk import checked once per chunk, in SQL, instead of row by row.

PostgreSQL checks a foreign key with one trigger call per inserted row: for the bench's
20,000-patient file (a million rows, 800,000 of them dose steps) that made the import take
15.3 s instead of 10.9 s (bench/bench_import.py, same machine, same code otherwise).

When the importing session may set `session_replication_role` (a superuser, or a role
given `GRANT SET ON PARAMETER session_replication_role` on PostgreSQL 15 and later), the COPY
runs with the row triggers off (as pg_restore does) and every foreign key of the imported
tables is then checked here, over the chunk just written, with one set-based query each:

- a parent written by the same import (a visit for a dose step): the children of the chunk's
  patients must find it among the parents of the same patients (an anti-join of two small sets);
- any other parent (the prescriber's account, a reaction term, a CRPV): the parent rows are
  locked FOR KEY SHARE, as PostgreSQL's own check does, so that nobody can delete them before
  the import commits, and each referenced key must be among the rows locked.

The constraints are read from pg_constraint, so a foreign key added later to an imported table
is checked without touching this module. A missing reference raises IntegrityError, naming the
constraint, and the import's transaction rolls back. Without the privilege the import keeps
PostgreSQL's triggers (reports.importer falls back on its own).

Replica mode turns off every ordinary trigger of the session, not only the foreign keys'
internal ones: the imported tables have no other trigger (tests/reports/test_import_references
checks it); one added later must be fired by the import itself or make it keep the triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, connection
from django.db.models import Model


def row_triggers_skippable() -> bool:
    """May this session turn the row triggers off (session_replication_role = replica)?"""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        if connection.pg_version >= 150000:
            cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        else:
            cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        return bool(cursor.fetchone()[0])


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


def foreign_keys(tables: list[str]) -> list[ForeignKey]:
    """The foreign keys declared on `tables`, as PostgreSQL holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                   ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                         ORDER BY k.i),
                   ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                         ORDER BY k.i)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
            ORDER BY c.conrelid::regclass::text, c.conname
            """,
            [tables],
        )
        return [
            ForeignKey(name, table.strip('"'), tuple(cols), parent.strip('"'), tuple(pcols))
            for name, table, parent, cols, pcols in cursor.fetchall()
        ]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


class ChunkReferences:
    """The checks of every foreign key of the imported tables, for one chunk at a time.

    `patient_column` gives, for each imported model, its column holding the patient's id (the
    primary key for the patients' own table): a chunk is the rows of a range of patient ids.
    """

    def __init__(self, patient_column: dict[type[Model], str]) -> None:
        by_table = {model._meta.db_table: column for model, column in patient_column.items()}
        self.keys = foreign_keys(list(by_table))
        self.checks: list[tuple[ForeignKey, str]] = []
        for fk in self.keys:
            child_range = f"c.{_q(by_table[fk.table])} BETWEEN %(low)s AND %(high)s"
            not_null = " AND ".join(f"c.{_q(col)} IS NOT NULL" for col in fk.columns)
            if fk.parent in by_table:
                same = " AND ".join(
                    f"p.{_q(pc)} = c.{_q(cc)}"
                    for cc, pc in zip(fk.columns, fk.parent_columns, strict=True)
                )
                sql = (
                    # Names from pg_constraint, quoted; the values are bound parameters.
                    f"SELECT count(*) FROM {_q(fk.table)} c WHERE {child_range} AND {not_null} "  # noqa: S608
                    f"AND NOT EXISTS (SELECT FROM {_q(fk.parent)} p WHERE {same} "
                    f"AND p.{_q(by_table[fk.parent])} BETWEEN %(low)s AND %(high)s)"
                )
            else:
                wanted = ", ".join(f"c.{_q(col)}" for col in fk.columns)
                keys = ", ".join(f"p.{_q(col)}" for col in fk.parent_columns)
                sql = (
                    f"WITH wanted AS (SELECT DISTINCT {wanted} FROM {_q(fk.table)} c "  # noqa: S608
                    f"WHERE {child_range} AND {not_null}), "
                    f"locked AS (SELECT FROM {_q(fk.parent)} p WHERE ({keys}) IN "
                    f"(SELECT * FROM wanted) FOR KEY SHARE OF p) "
                    f"SELECT (SELECT count(*) FROM wanted) - (SELECT count(*) FROM locked)"
                )
            self.checks.append((fk, sql))

    def verify(self, cursor, low: int, high: int) -> None:
        """Raise IntegrityError if a row of the patients low..high misses its parent."""
        for fk, sql in self.checks:
            cursor.execute(sql, {"low": low, "high": high})
            missing = cursor.fetchone()[0]
            if missing:
                raise IntegrityError(
                    f"{missing} row(s) of {fk.table} violate foreign key {fk.name}: "
                    f"({', '.join(fk.columns)}) not found in {fk.parent}"
                )
