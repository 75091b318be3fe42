"""A service's write on a patient holds the patient's row lock until it commits: two visits
cannot be validated against the same log (prescriptions.services._lock, a compiled read)."""

import psycopg
import pytest
from django.db import connection, transaction
from prescriber_flow import include

from prescriptions import services
from tests.conftest import other_connection, require_service

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_patient_is_locked_until_the_write_commits(alice):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    patient = include(alice)
    sql = "SELECT 1 FROM patients_patient WHERE id = %s FOR UPDATE"
    with other_connection() as other:
        other.execute("SET lock_timeout = '200ms'")
        with transaction.atomic():
            locked = services._lock(patient)
            assert locked.pk == patient.pk and locked is not patient
            assert locked.code == patient.code and not locked._state.adding
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(sql, [patient.pk])
        other.execute(sql, [patient.pk])  # committed: the lock is gone


def test_locking_outside_a_transaction_is_refused(alice):
    patient = include(alice)
    with pytest.raises(transaction.TransactionManagementError):
        services._lock(patient)
