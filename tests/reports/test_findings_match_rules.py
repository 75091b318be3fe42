"""The SQL count of protocol findings (reports.statistics, query 6) against prescriptions.rules.

A random cohort with steps before the RTU and in every version, invalid doses, increases too
large or too soon, tapers, doses above every opinion threshold, opinions recorded on some
visits, pretreated and older patients: for several periods, every per-version figure of the
SQL pass equals the same count made step by step in Python with rules.check_dose, under the
definitions the SQL states (steps in (date, id) order; the previous dose is the step before,
or the pretreatment dose for the first step of a pretreated patient; opinions count from the
first visit that records them).
"""

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest

from patients.models import Patient
from prescriptions import rules
from prescriptions.models import DoseStep, Visit
from reports.statistics import cohort_summary
from tests.factories import prescriber
from tests.reports.cohort import patient, visit

pytestmark = pytest.mark.django_db

OPINIONS = ("second_opinion", "collegial_opinion", "multidisciplinary_care")


def _random_cohort(rng: random.Random, n: int) -> None:
    doctor = prescriber(specialty="addiction")
    for _ in range(n):
        included = date(2013, 9, 1) + timedelta(days=rng.randrange(0, 3300))
        pretreated = rng.random() < 0.3
        p = patient(
            doctor,
            sex=rng.choice("MF"),
            birth_year=rng.choice([1940, 1948, 1955, 1970, 1985]),
            inclusion_date=included,
            treatment_status="pretreated" if pretreated else "initiation",
            pretreatment_dose_mg=rng.choice([0, 60, 150]) if pretreated else None,
            alcohol_g_per_day=rng.randrange(0, 200),
            craving=rng.randrange(0, 11),
            abstinent=rng.random() < 0.2,
        )
        day, dose = included, rng.choice([5, 15, 20, 40])
        for _visit in range(rng.randrange(1, 4)):
            steps = []
            on = day
            for _step in range(rng.randrange(0, 5)):
                steps.append((on, dose))
                on += timedelta(days=rng.choice([0, 1, 1, 2, 3, 20, 400]))
                dose = max(0, dose + rng.choice([-40, -15, -10, 0, 5, 10, 15, 30, 90]))
            if steps and steps[-1][1] == 0:  # a visit prescribes a dose (0 only mid-plan)
                steps[-1] = (steps[-1][0], 5)
            opinions = {name: rng.random() < 0.2 for name in OPINIONS}
            visit(p, day, alcohol=50, craving=5, abstinent=False, steps=steps, **opinions)
            day = on + timedelta(days=rng.randrange(1, 90))


def _expected(date_from: date | None, date_to: date | None) -> list[dict]:
    patients = Patient.objects.all()
    if date_from:
        patients = patients.filter(inclusion_date__gte=date_from)
    if date_to:
        patients = patients.filter(inclusion_date__lte=date_to)
    by_version: dict[str, dict] = {}
    blocking_patients: dict[str, set] = defaultdict(set)
    seen: dict[str, set] = defaultdict(set)
    for p in patients:
        steps = DoseStep.objects.filter(patient=p).order_by("start_date", "pk")
        visits = Visit.objects.filter(patient=p)
        if date_to:
            steps = steps.filter(start_date__lte=date_to)
            visits = visits.filter(visit_date__lte=date_to)
        since = {
            name: min((v.visit_date for v in visits if getattr(v, name)), default=None)
            for name in OPINIONS
        }
        lag_dose, lag_on = None, None
        for index, s in enumerate(steps):
            if index == 0 and p.treatment_status == "pretreated" and p.pretreatment_dose_mg:
                previous = p.pretreatment_dose_mg
            else:
                previous = lag_dose if lag_dose else None
            check = rules.check_dose(
                on=s.start_date,
                dose_mg=s.daily_dose_mg,
                age=s.start_date.year - p.birth_year,
                previous_dose_mg=previous,
                previous_on=lag_on,
                **{n: since[n] is not None and since[n] <= s.start_date for n in OPINIONS},
            )
            version = rules.protocol_in_force(s.start_date).version if check.protocol else ""
            version = version or "before_rtu"
            row = by_version.setdefault(
                version,
                {
                    "version": version,
                    "steps": 0,
                    "patients": 0,
                    "blocking_steps": 0,
                    "blocking_patients": 0,
                    "findings": dict.fromkeys(rules.FINDING_CODES, 0),
                },
            )
            row["steps"] += 1
            seen[version].add(p.pk)
            for finding in check.findings:
                row["findings"][finding.code] += 1
            if not check.allowed:
                row["blocking_steps"] += 1
                blocking_patients[version].add(p.pk)
            lag_dose, lag_on = s.daily_dose_mg, s.start_date
    for version, row in by_version.items():
        row["patients"] = len(seen[version])
        row["blocking_patients"] = len(blocking_patients[version])
    return sorted(
        by_version.values(), key=lambda r: "" if r["version"] == "before_rtu" else r["version"]
    )


@pytest.mark.parametrize("seed", [3, 17])
def test_sql_findings_equal_the_rules_step_by_step(seed):
    _random_cohort(random.Random(seed), 60)
    periods = [
        (None, None),
        (date(2014, 1, 1), date(2017, 12, 31)),
        (date(2017, 7, 24), None),
        (None, date(2021, 11, 17)),
    ]
    versions = set()
    for period in periods:
        computed = cohort_summary(*period)["protocol_findings"]
        assert computed == _expected(*period), period
        versions |= {r["version"] for r in computed}
    # The cohort does reach every version and a good part of the findings.
    assert versions == {"before_rtu", "2014", "2017", "2021"}
    whole = cohort_summary()["protocol_findings"]
    found = {code for r in whole for code, n in r["findings"].items() if n}
    assert len(found) >= 7, found
    assert all(r["blocking_patients"] <= r["patients"] for r in whole)
    assert any(0 < r["blocking_patients"] < r["blocking_steps"] for r in whole)
