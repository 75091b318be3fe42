"""Querysets compiled to SQL once per process, for the small reads every patient page makes.

Building a queryset and compiling it to SQL costs Django more than PostgreSQL needs to run it
for the per-patient reads of the patient page: 2.1 ms of the 4.1 ms of one history read on the
2026-12-02 machine. `CompiledValues` compiles the queryset once, with a placeholder value, and
then only swaps the value in the parameters, so each later read is the database round trip and
the values' conversion, as `QuerySet.values()` would return them. `CompiledInstances` does
the same for a plain queryset of model instances (no select_related, no annotations).

The reads run on a cursor that binds their values on the server and has psycopg prepare them
on the connection (`preparing_cursor`), so PostgreSQL parses and plans each one once per
connection too, instead of on every page.

A read of several values (`build(code, prescriber_id)`) names a placeholder per value:
`placeholders=(TEXT_PLACEHOLDER, PLACEHOLDER)` for a text and an integer column.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# A value no key takes (ids are positive) that still fits a 32-bit integer column, so that
# Django puts it in the parameters instead of folding the lookup into an empty result.
PLACEHOLDER = -1_987_654_321
# The same for a text column (never run: the SQL is compiled with it, then the value swapped in).
TEXT_PLACEHOLDER = "~compiled-query-placeholder~"


def preparing_cursor(connection):
    """A cursor whose statements are bound on the server and prepared on the connection.

    Django's own cursors bind the values on the client and never prepare. With this one,
    psycopg prepares a statement on the connection (settings: `prepare_threshold`) and
    PostgreSQL reuses its plan. The cursor is Django's wrapper: queries are logged and counted
    as usual. Other databases get their ordinary cursor.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    return connection._prepare_cursor(_preparing_cursor_class()(connection.connection))


@functools.cache
def _preparing_cursor_class() -> type:
    """Django's server-binding psycopg cursor, asking psycopg to prepare what it runs."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, **kwargs):
            kwargs.setdefault("prepare", True)
            result = super().execute(query, params, **kwargs)
            if self._query is None and isinstance(query, str):
                # Run as a prepared statement, psycopg keeps no text of it; Django's query log
                # (connection.queries, the tests' query captures) reads it here.
                self._query = _StatementText(query.encode())
            return result

    return PreparingCursor


class _StatementText:
    """What Django's query log reads of a psycopg cursor's last statement (`_query.query`)."""

    __slots__ = ("query",)

    def __init__(self, query: bytes) -> None:
        self.query = query


class _Compiled:
    """The SQL of `build(*placeholders)` per database alias, and where each value goes in it."""

    def __init__(
        self, build: Callable[..., QuerySet], *, placeholders: tuple = (PLACEHOLDER,)
    ) -> None:
        if len(set(placeholders)) != len(placeholders):
            raise ValueError("each value needs its own placeholder")
        self.build = build
        self.placeholders = placeholders
        self._compiled: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def _check(self, query) -> None:
        """Refuse the querysets the subclass cannot turn back into results."""

    def _extra(self, query, compiler) -> Any:
        """What the subclass needs besides the SQL to build its results."""

    def _compile(self, using: str) -> tuple:
        query = self.build(*self.placeholders).query
        self._check(query)
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = []
        for placeholder in self.placeholders:
            found = [i for i, param in enumerate(params) if param == placeholder]
            if len(found) != 1:
                raise ValueError(
                    f"each value must occur once in the parameters, not {len(found)} times"
                )
            slots.append(found[0])
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        return sql, list(params), slots, compiler, converters, self._extra(query, compiler)

    def rows(self, values: tuple, using: str) -> tuple[list, Any]:
        if len(values) != len(self.placeholders):
            raise TypeError(f"{len(self.placeholders)} values expected, {len(values)} given")
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        sql, params, slots, compiler, converters, extra = compiled
        params = list(params)
        for slot, value in zip(slots, values, strict=True):
            params[slot] = value
        with preparing_cursor(connections[using]) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        return rows, extra


class CompiledValues(_Compiled):
    """`build(value, ...)` is a `.values(...)` queryset with each value in exactly one lookup.

    `compiled(value, ...)` returns the list of dicts that `list(build(value))` would, without
    building or compiling the queryset again. The SQL is kept per database alias.
    """

    def _check(self, query) -> None:
        if not query.values_select and not query.annotation_select:
            raise TypeError("CompiledValues needs a .values(...) queryset")

    def _extra(self, query, compiler) -> list[str]:
        return [*query.extra_select, *query.values_select, *query.annotation_select]

    def __call__(self, *values: Any, using: str = "default") -> list[dict]:
        rows, names = self.rows(values, using)
        return [dict(zip(names, row, strict=True)) for row in rows]


class CompiledInstances(_Compiled):
    """`build(value, ...)` is a queryset of model instances with each value in exactly one lookup.

    `compiled(value, ..., patient=obj)` returns the instances `list(build(value, ...))` would, with
    `obj` set as their `patient` (as a related manager's queryset would), without building
    or compiling the queryset again.
    """

    def _check(self, query) -> None:
        if (
            query.values_select
            or query.annotation_select
            or query.extra_select
            or query.select_related
            or query.deferred_loading[0]
        ):
            raise TypeError("CompiledInstances needs a plain queryset of whole instances")

    def _extra(self, query, compiler) -> tuple:
        info = compiler.klass_info
        names = [compiler.select[i][0].target.attname for i in info["select_fields"]]
        return info["model"], names

    def __call__(self, *values: Any, using: str = "default", **related) -> list:
        rows, (model, names) = self.rows(values, using)
        instances = [model.from_db(using, names, row) for row in rows]
        for name, obj in related.items():
            for instance in instances:
                setattr(instance, name, obj)
        return instances
