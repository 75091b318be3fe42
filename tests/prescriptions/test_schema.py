"""The database itself holds a dose step to its visit or stop and to that parent's patient
(PostgreSQL: composite foreign keys of prescriptions migration 0002)."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from prescriptions.models import DoseStep, StopOfTreatment
from tests.factories import PatientFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("composite foreign keys exist on PostgreSQL only (SQLite: the ORM's link)")


def _check_now():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_step_of_a_visit_cannot_name_another_patient():
    visit = VisitFactory()
    other = PatientFactory()
    with pytest.raises(IntegrityError, match="step_visit_same_patient"), transaction.atomic():
        DoseStep.objects.create(
            patient=other, visit=visit, start_date=visit.visit_date, daily_dose_mg=15
        )
        _check_now()


def test_a_step_of_a_missing_visit_is_refused():
    visit = VisitFactory()
    with pytest.raises(IntegrityError, match="step_visit_same_patient"), transaction.atomic():
        DoseStep.objects.create(
            patient=visit.patient,
            visit_id=visit.pk + 1000,
            start_date=date(2014, 4, 2),
            daily_dose_mg=15,
        )
        _check_now()


def test_a_taper_step_cannot_name_another_patient_than_its_stop():
    visit = VisitFactory()
    stop = StopOfTreatment.objects.create(
        patient=visit.patient, stop_date=date(2014, 6, 1), reason="goal_reached"
    )
    other = PatientFactory()
    with pytest.raises(IntegrityError, match="step_stop_same_patient"), transaction.atomic():
        DoseStep.objects.create(
            patient=other, stop=stop, start_date=date(2014, 5, 20), daily_dose_mg=5
        )
        _check_now()


def test_matching_steps_are_accepted_and_follow_their_visit_when_deleted():
    visit = VisitFactory()
    with transaction.atomic():
        DoseStep.objects.create(
            patient=visit.patient, visit=visit, start_date=visit.visit_date, daily_dose_mg=15
        )
        _check_now()
    assert DoseStep.objects.filter(visit=visit).count() == 1
    visit.delete()
    assert not DoseStep.objects.filter(patient=visit.patient).exists()
