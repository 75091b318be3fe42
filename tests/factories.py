"""factory_boy factories for the domain rows. Append new factories at the end of the file."""

from datetime import date

import factory

from accounts.services import account_create
from accounts.validators import rpps_with_check_digit
from patients.models import Patient
from prescriptions.models import DoseStep, Visit

_counter = iter(range(1, 10**9))


def prescriber(**kwargs):
    n = next(_counter)
    defaults = {
        "email": f"prescriber{n}@example.fr",
        "password": None,
        "role": "prescriber",
        "rpps": rpps_with_check_digit(f"20{n:08d}"),
        "specialty": "general_practice",
        "region": "84",
    }
    defaults.update(kwargs)
    return account_create(**defaults)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    code = factory.Sequence(lambda n: f"BAC-T{n:03d}-{n:04d}"[:13])
    prescriber = factory.LazyFunction(prescriber)
    sex = "M"
    birth_year = 1966
    inclusion_date = date(2014, 4, 2)
    protocol_version = "2014"
    indication = "reduction"
    treatment_status = "initiation"
    alcohol_g_per_day = 120
    craving = 7
    abstinent = False


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    patient = factory.SubFactory(PatientFactory)
    visit_date = factory.LazyAttribute(lambda o: o.patient.inclusion_date)
    protocol_version = "2014"
    daily_dose_mg = 15
    dose_morning_mg = 5
    dose_noon_mg = 5
    dose_evening_mg = 5
    alcohol_g_per_day = 100
    craving = 6
    abstinent = False


class DoseStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoseStep

    visit = factory.SubFactory(VisitFactory)
    patient = factory.LazyAttribute(lambda o: o.visit.patient)
    start_date = factory.LazyAttribute(lambda o: o.visit.visit_date)
    daily_dose_mg = factory.LazyAttribute(lambda o: o.visit.daily_dose_mg)
