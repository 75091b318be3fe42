"""import_cohort's foreign keys, checked per chunk in SQL when the row triggers are off
(reports.references), or by PostgreSQL's own triggers otherwise: either way a row whose parent
is missing stops the whole import, and the parents outside the import are locked until it
commits."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import PrescriberProfile
from patients.models import Patient
from pharmacovigilance.models import AdverseEvent
from prescriptions.models import DoseStep, Visit
from reports import importer, references
from tests.conftest import require_service
from tests.reports.cohort import term
from tests.reports.test_import import line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql(db):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    term("somnolence")


@pytest.fixture(params=["set-based", "row triggers"])
def mode(request, monkeypatch):
    if request.param == "row triggers":
        monkeypatch.setattr(importer, "row_triggers_skippable", lambda: False)
    else:
        assert references.row_triggers_skippable(), "the test database's role is a superuser"
    calls = []
    real = importer._copy_chunk
    monkeypatch.setattr(
        importer, "_copy_chunk", lambda *a: calls.append(a[2] is not None) or real(*a)
    )
    yield request.param
    assert calls and set(calls) == {request.param == "set-based"}


def _corrupt(monkeypatch, table, column, value):
    """Make _rows write `value` into `column` of the first row of `table`'s model."""
    real = importer._rows

    def rows(*args):
        tables = real(*args)
        for model, columns, table_rows in tables:
            if model._meta.db_table == table and table_rows:
                first = list(table_rows[0])
                first[columns.index(column)] = value(first, tables)
                table_rows[0] = tuple(first)
        return tables

    monkeypatch.setattr(importer, "_rows", rows)


def _file(tmp_path, count=4):
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(line() for _ in range(count)) + "\n")
    return path


def test_the_checks_cover_every_foreign_key_of_the_imported_tables():
    checks = references.ChunkReferences(importer._PATIENT_COLUMN)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text"
            " = ANY(%s)",
            [[m._meta.db_table for m in importer._PATIENT_COLUMN]],
        )
        declared = cursor.fetchone()[0]
    names = {fk.name for fk, _sql in checks.checks}
    assert len(names) == declared >= 10
    assert {"step_visit_same_patient", "step_stop_same_patient"} <= names


def test_the_imported_tables_have_no_trigger_that_replica_mode_would_skip():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text"
            " = ANY(%s)",
            [[m._meta.db_table for m in importer._PATIENT_COLUMN]],
        )
        assert cursor.fetchone()[0] == 0


def test_a_valid_file_imports_in_both_modes(tmp_path, mode, capsys):
    call_command("import_cohort", str(_file(tmp_path)))
    assert "Imported 4 patients" in capsys.readouterr().out
    assert Patient.objects.count() == 4 and Visit.objects.count() == 8
    assert DoseStep.objects.count() == 12 and AdverseEvent.objects.count() == 4


@pytest.mark.parametrize(
    ("table", "column", "value", "constraint"),
    [
        # A dose step pointing at a visit of another patient of the same chunk.
        (
            "prescriptions_dosestep",
            "visit_id",
            lambda row, tables: tables[1][2][-1][0],
            "step_visit_same_patient",
        ),
        # A reaction term that does not exist (a parent outside the import).
        ("pharmacovigilance_adverseevent", "term_id", lambda row, tables: 987654, "term_id"),
        # A prescriber's account that does not exist.
        ("patients_patient", "prescriber_id", lambda row, tables: 987654, "prescriber_id"),
    ],
)
def test_a_missing_parent_stops_the_whole_import(
    tmp_path, monkeypatch, mode, table, column, value, constraint
):
    monkeypatch.setattr(importer, "CHUNK", 2)
    _corrupt(monkeypatch, table, column, value)
    with pytest.raises(CommandError, match=constraint):
        call_command("import_cohort", str(_file(tmp_path)))
    assert Patient.objects.count() == 0 and Visit.objects.count() == 0
    assert DoseStep.objects.count() == 0 and AdverseEvent.objects.count() == 0
    assert PrescriberProfile.objects.count() == 0
    with connection.cursor() as cursor:  # the import's SET LOCAL went with its rollback
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"
