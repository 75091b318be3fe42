"""Fixtures of the pharmacovigilance tests: a patient of alice with a titration log."""

from datetime import date

import pytest

from tests.factories import DoseStepFactory, PatientFactory, VisitFactory
from tests.pharmacovigilance.helpers import TODAY, frozen


@pytest.fixture
def today():
    with frozen():
        yield TODAY


@pytest.fixture
def patient(alice):
    """Included on 2 April 2014: 15 mg/day, 20 from the 5th, then 60 from 1 May."""
    patient = PatientFactory(prescriber=alice, code="BAC-A001-0001", birth_year=1966)
    first = VisitFactory(patient=patient, visit_date=date(2014, 4, 2), daily_dose_mg=15)
    DoseStepFactory(visit=first, start_date=date(2014, 4, 2), daily_dose_mg=15)
    DoseStepFactory(visit=first, start_date=date(2014, 4, 5), daily_dose_mg=20)
    second = VisitFactory(patient=patient, visit_date=date(2014, 4, 30), daily_dose_mg=60)
    DoseStepFactory(visit=second, start_date=date(2014, 5, 1), daily_dose_mg=60)
    return patient


@pytest.fixture
def bob_patient(bob):
    return PatientFactory(prescriber=bob, code="BAC-B001-0001")
