"""A refresh of the report summaries that runs while a visit is being saved (PostgreSQL).

The save has marked the patient's row stale and not yet committed when the worker's refresher
starts. Without the refresher's lock on the patient rows, it would compute the row from what is
committed (without the visit), wait for the save's row lock, and then write its figures marked
fresh over the save's mark: the report would read a row without the visit. With it, the
refresher waits for the save to commit and counts the visit.
"""

import threading
import time
from datetime import date

import pytest
from django.db import connection, connections

from prescriptions import services as prescriptions
from reports import summaries
from reports.models import PatientSummary
from tests.conftest import require_service
from tests.patients.prescriber_flow import include

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _visit(patient, by, day: date, dose: int, alcohol: int) -> None:
    prescriptions.visit_record(
        patient=patient,
        by=by,
        visit_date=day,
        daily_dose_mg=dose,
        intakes=dict(zip(prescriptions.INTAKES, (dose, 0, 0, 0), strict=True)),
        alcohol_g_per_day=alcohol,
        craving=5,
        abstinent=False,
        opinions={},
    )


def test_a_refresh_during_a_save_waits_for_it_and_counts_it(alice, monkeypatch):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    # The worker's job is run by the test itself, at the moment it chooses.
    monkeypatch.setattr(summaries, "request_stale_refresh", lambda: None)
    patient = include(alice)
    _visit(patient, alice, date(2014, 4, 1), 15, 120)
    _visit(patient, alice, date(2014, 4, 20), 15, 90)
    assert PatientSummary.objects.get(patient=patient).stale  # committed, not yet refreshed

    marked = threading.Event()
    real_mark = summaries.summaries_mark_stale
    errors: list[BaseException] = []
    refreshed: list[tuple[int, float]] = []

    def mark_then_linger(*, patient_id):
        real_mark(patient_id=patient_id)
        marked.set()
        time.sleep(1.0)  # the refresher runs meanwhile, as far as it can

    def save():
        try:
            _visit(patient, alice, date(2014, 5, 2), 15, 60)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    def refresh():
        try:
            marked.wait(10)
            started = time.monotonic()
            count = summaries.summaries_refresh_stale()
            refreshed.append((count, time.monotonic() - started))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    monkeypatch.setattr(prescriptions, "summaries_mark_stale", mark_then_linger)
    threads = [threading.Thread(target=save), threading.Thread(target=refresh)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors

    [(count, waited)] = refreshed
    assert count == 1 and waited > 0.5  # it waited for the save to commit
    summary = PatientSummary.objects.get(patient=patient)
    assert not summary.stale
    assert summary.last_follow_up == 60 * 1000 + 5 * 10  # the visit saved meanwhile
    kept = PatientSummary.objects.filter(patient=patient).values().get()
    summaries.summaries_refresh(patient_ids=[patient.pk])
    assert PatientSummary.objects.filter(patient=patient).values().get() == kept
