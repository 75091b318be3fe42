"""While an import's transaction is open, the parents outside the import that it references
are locked FOR KEY SHARE, as PostgreSQL's own foreign-key check does: nobody can delete the
prescriber's account before the import commits (reports.references, set-based mode)."""

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import User
from patients.models import Patient
from reports import importer, references
from tests.conftest import other_connection, require_service
from tests.reports.cohort import term
from tests.reports.test_import import line

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_parents_outside_the_import_are_locked_until_it_commits(tmp_path):
    """As PostgreSQL's own check does (FOR KEY SHARE): while the import's transaction is open,
    the prescriber it references cannot be deleted by anyone else."""
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    term("somnolence")
    path = tmp_path / "cohort.jsonl"
    path.write_text(line() + "\n" + line() + "\n")
    call_command("import_cohort", str(path))
    doctor = User.objects.get(prescriber_profile__rpps="10000000009")
    ids = list(Patient.objects.values_list("id", flat=True))
    checks = references.ChunkReferences(importer._PATIENT_COLUMN)
    with other_connection() as other:
        other.execute("SET lock_timeout = '200ms'")
        with transaction.atomic():
            with connection.connection.cursor() as cursor:
                checks.verify(cursor, min(ids), max(ids))
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR UPDATE", [doctor.pk])
        # Committed: the lock is gone.
        other.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR UPDATE", [doctor.pk])
