"""Helpers for the prescriber workflow tests: inclusion and form payloads."""

from datetime import date

from patients.services import patient_register

TODAY = date(2014, 6, 2)


def include(prescriber, **overrides):
    data = {
        "prescriber": prescriber,
        "sex": "M",
        "birth_year": 1966,
        "inclusion_date": date(2014, 4, 1),
        "indication": "reduction",
        "treatment_status": "initiation",
        "pretreatment_dose_mg": None,
        "failed_treatments": ["acamprosate"],
        "precautions": [],
        "alcohol_g_per_day": 120,
        "craving": 7,
        "abstinent": False,
        "psychosocial_care": True,
        "informed_of_rtu": True,
    }
    data.update(overrides)
    return patient_register(**data)


def inclusion_post(**overrides) -> dict:
    data = {
        "sex": "M",
        "birth_year": "1966",
        "inclusion_date": "2014-05-20",
        "indication": "reduction",
        "treatment_status": "initiation",
        "failed_treatments": ["acamprosate", "naltrexone"],
        "alcohol_g_per_day": "120",
        "craving": "7",
        "abstinent": "no",
        "psychosocial_care": "yes",
        "informed_of_rtu": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def steps_post(steps=(), prefix="steps") -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(max(len(steps), 1)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "60",
    }
    for i, (on, dose) in enumerate(steps):
        data[f"{prefix}-{i}-start_date"] = on
        data[f"{prefix}-{i}-daily_dose_mg"] = str(dose)
    return data


def visit_post(*, steps=(), **overrides) -> dict:
    data = {
        "visit_date": "2014-04-01",
        "daily_dose_mg": "15",
        "dose_morning_mg": "5",
        "dose_noon_mg": "5",
        "dose_evening_mg": "5",
        "dose_bedtime_mg": "0",
        "alcohol_g_per_day": "110",
        "craving": "6",
        "abstinent": "no",
        "note": "",
    }
    data.update(overrides)
    data.update(steps_post(steps))
    return {k: v for k, v in data.items() if v is not None}
