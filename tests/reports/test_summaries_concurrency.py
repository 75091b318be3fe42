"""Two writes on one patient at the same time leave the report summary of both (PostgreSQL).

An adverse-event follow-up (which makes the case serious) has refreshed the patient's summary
and not yet committed when the prescriber saves a visit. Without the follow-up's lock on the
patient row, the visit's refresh would read the case as it was, wait for the summary row, and
then write its stale flags over the follow-up's. With it, the visit waits for the follow-up to
commit and counts it.
"""

import threading
import time
from datetime import date

import pytest
from django.db import connection, connections

from pharmacovigilance import services as cases
from prescriptions import services as prescriptions
from reports import summaries
from reports.models import PatientSummary
from tests.conftest import require_service
from tests.patients.prescriber_flow import include
from tests.pharmacovigilance.helpers import make_case

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


def test_a_visit_saved_during_a_follow_up_counts_the_follow_up(alice, monkeypatch):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    patient = include(alice)
    _visit(patient, alice, date(2014, 4, 1), 15, 120)
    case = make_case(patient, onset_date=date(2014, 4, 10), outcome="recovering")
    assert PatientSummary.objects.get(patient=patient).ae_serious == 0

    refreshed, visit_started = threading.Event(), threading.Event()
    real_refresh = summaries.summaries_refresh
    errors: list[BaseException] = []

    def refresh_then_linger(*, patient_ids=None):
        real_refresh(patient_ids=patient_ids)
        refreshed.set()
        visit_started.wait(10)
        time.sleep(1.0)  # the visit's transaction runs meanwhile, as far as it can

    def follow_up():
        try:
            cases.adverse_event_follow_up(
                case=case,
                reported_by=alice,
                information="Hospitalised overnight.",
                outcome="recovered",
                serious=True,
                seriousness_criteria=["hospitalisation"],
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    def visit():
        try:
            refreshed.wait(10)
            visit_started.set()
            _visit(patient, alice, date(2014, 5, 2), 15, 60)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    monkeypatch.setattr(cases, "summaries_refresh", refresh_then_linger)
    threads = [threading.Thread(target=follow_up), threading.Thread(target=visit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors

    summary = PatientSummary.objects.get(patient=patient)
    assert (summary.ae_serious, summary.last_follow_up) == (1, 60 * 1000 + 5 * 10)
    kept = PatientSummary.objects.filter(patient=patient).values().get()
    real_refresh(patient_ids=[patient.pk])
    assert PatientSummary.objects.filter(patient=patient).values().get() == kept
