"""The report read from the patients' summaries equals the report computed from the clinical
tables, whatever the period; a summary is used only for the periods it answers for."""

import random
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import transaction

from patients.models import Patient
from prescriptions import rules
from prescriptions.models import StopOfTreatment
from reports.models import PatientFindings, PatientSummary
from reports.statistics import FACT_COLUMNS, cohort_summary
from reports.summaries import (
    REFRESH_DELAY_SECONDS,
    REFRESH_QUEUED_KEY,
    request_stale_refresh,
    summaries_mark_stale,
    summaries_refresh,
    summaries_refresh_stale,
)
from reports.tasks import refresh_stale_summaries
from tests.factories import prescriber
from tests.reports.cohort import event, patient, visit
from tests.reports.test_findings_match_rules import _random_cohort

pytestmark = pytest.mark.django_db

PERIODS = [
    (None, None),
    (date(2014, 1, 1), date(2017, 12, 31)),
    (date(2017, 7, 24), None),
    (None, date(2021, 11, 17)),
    (None, date(2015, 6, 30)),
    (date(2016, 3, 1), date(2016, 3, 31)),
]


def _random_events_and_stops(rng: random.Random) -> None:
    terms = ["somnolence", "convulsion", "anxiety", "nausea"]
    for p in Patient.objects.order_by("pk"):
        if rng.random() < 0.4:
            for _ in range(rng.randrange(1, 3)):
                event(
                    p,
                    rng.choice(terms),
                    p.inclusion_date + timedelta(days=rng.randrange(0, 900)),
                    serious=rng.random() < 0.3,
                    causality=rng.choice(["possible", "probable", "unlikely", "excluded"]),
                    dose=rng.choice([None, 30, 90, 150, 240, 320]),
                )
        if rng.random() < 0.25:
            StopOfTreatment.objects.create(
                patient=p,
                stop_date=p.inclusion_date + timedelta(days=rng.randrange(30, 1500)),
                reason="goal_reached",
            )
        if rng.random() < 0.5:  # a follow-up visit with other values than the inclusion's
            day = p.inclusion_date + timedelta(days=rng.randrange(1, 2000))
            visit(
                p,
                day,
                alcohol=rng.randrange(0, 300),
                craving=rng.randrange(0, 11),
                abstinent=rng.random() < 0.3,
            )


@pytest.mark.parametrize("seed", [5, 29])
def test_summaries_give_the_figures_of_the_clinical_tables(seed):
    rng = random.Random(seed)
    _random_cohort(rng, 50)
    _random_events_and_stops(rng)
    live = {period: cohort_summary(*period) for period in PERIODS}
    assert not PatientSummary.objects.exists()

    # Half of the patients summarised: the report mixes both ways.
    ids = list(Patient.objects.values_list("pk", flat=True))
    summaries_refresh(patient_ids=rng.sample(ids, len(ids) // 2))
    for period in PERIODS:
        assert cohort_summary(*period) == live[period], period

    summaries_refresh()
    assert PatientSummary.objects.count() == len(ids)
    for period in PERIODS:
        assert cohort_summary(*period) == live[period], period
    # The cohort is not trivial: the figures the summaries carry are there.
    whole = live[(None, None)]
    assert whole["stopped"] and whole["adverse_event_patients"]["serious_possibly_related"]
    assert {r["version"] for r in whole["protocol_findings"]} >= {"2014", "2017", "2021"}


def test_a_summary_is_read_only_for_the_periods_it_answers_for():
    """A summary row is trusted as it is (here altered behind the services' back) for a period
    ending on or after its patient's latest fact, and ignored for a period ending before."""
    doctor = prescriber(specialty="addiction")
    p = patient(
        doctor,
        sex="M",
        birth_year=1970,
        inclusion_date=date(2015, 3, 1),
        treatment_status="initiation",
        alcohol_g_per_day=100,
    )
    visit(
        p, date(2015, 3, 1), alcohol=100, craving=5, abstinent=False, steps=[(date(2015, 3, 1), 15)]
    )
    visit(
        p, date(2015, 4, 1), alcohol=60, craving=4, abstinent=False, steps=[(date(2015, 4, 1), 30)]
    )
    visit(p, date(2015, 6, 1), alcohol=20, craving=3, abstinent=False)
    summaries_refresh()
    assert PatientSummary.objects.get(patient=p).facts_until == date(2015, 6, 1)
    PatientSummary.objects.filter(patient=p).update(highest_dose_mg=300, stopped=1)

    whole = cohort_summary()
    bands = {b["band"]: b["patients"] for b in whole["dose_distribution"]["highest_dose_bands"]}
    assert bands["185-300"] == 1 and whole["stopped"] == 1  # the (altered) row is read

    for date_to in (date(2015, 6, 1), date(2030, 1, 1)):  # it answers for these too
        assert cohort_summary(None, date_to)["stopped"] == 1

    before = cohort_summary(None, date(2015, 5, 31))  # not for this one: computed afresh
    bands = {b["band"]: b["patients"] for b in before["dose_distribution"]["highest_dose_bands"]}
    assert bands["5-30"] == 1 and before["stopped"] == 0
    assert before["consumption_change_g_per_day"]["initiation"] == -40.0


def test_a_stale_summary_is_read_for_no_period():
    """A row marked stale by a write is ignored whatever the period (here altered too): the
    report computes the patient from the clinical tables until the refresher has run."""
    rng = random.Random(7)
    _random_cohort(rng, 30)
    _random_events_and_stops(rng)
    live = {period: cohort_summary(*period) for period in PERIODS}
    summaries_refresh()
    ids = sorted(Patient.objects.values_list("pk", flat=True))
    altered = rng.sample(ids, 10)
    PatientSummary.objects.filter(patient_id__in=altered).update(
        highest_dose_mg=300, stopped=1, ae_serious=1, stale=True
    )
    PatientFindings.objects.filter(patient_id__in=altered).update(steps=999, n_step_too_soon=99)
    for period in PERIODS:
        assert cohort_summary(*period) == live[period], period

    assert summaries_refresh_stale(batch=4) == 10  # three batches
    assert not PatientSummary.objects.filter(stale=True).exists()
    assert not PatientFindings.objects.filter(steps=999).exists()
    for period in PERIODS:
        assert cohort_summary(*period) == live[period], period


def test_a_write_marks_the_row_stale_and_a_new_patient_gets_one():
    p = patient(
        prescriber(specialty="addiction"),
        sex="F",
        birth_year=1975,
        inclusion_date=date(2018, 2, 1),
        treatment_status="initiation",
        alcohol_g_per_day=90,
    )
    visit(
        p, date(2018, 2, 1), alcohol=90, craving=6, abstinent=False, steps=[(p.inclusion_date, 15)]
    )
    with transaction.atomic():
        summaries_mark_stale(patient_id=p.pk)  # no row yet: a stale one
    row = PatientSummary.objects.get(patient=p)
    assert row.stale and row.facts_until is None
    assert summaries_refresh_stale() == 1
    row.refresh_from_db()
    assert not row.stale and row.facts_until == date(2018, 2, 1) and row.highest_dose_mg == 15
    with transaction.atomic():
        summaries_mark_stale(patient_id=p.pk)
    row.refresh_from_db()
    assert row.stale and row.highest_dose_mg == 15


@pytest.fixture
def broker(monkeypatch):
    """Tasks sent to a broker (as in production) instead of run in-process: what is sent is
    recorded here, or refused when `down` is set."""
    from rtuportal.celery import app

    sent: list = []
    state = {"down": False}

    def apply_async(*args, **kwargs):
        if state["down"]:
            raise ConnectionError("broker unreachable")
        sent.append(kwargs)

    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(refresh_stale_summaries, "apply_async", apply_async)
    cache.delete(REFRESH_QUEUED_KEY)
    return sent, state


def test_one_refresh_job_is_queued_for_the_writes_of_a_few_seconds(broker):
    sent, _ = broker
    for _ in range(5):  # five commits in a row
        request_stale_refresh()
    assert sent == [{"countdown": REFRESH_DELAY_SECONDS}]
    # The job clears the key before it reads the stale rows: the next commit queues another.
    assert refresh_stale_summaries.run() == 0
    request_stale_refresh()
    assert len(sent) == 2


def test_a_broker_down_does_not_fail_the_write_and_beat_catches_up(broker, caplog):
    from rtuportal.celery import app

    sent, state = broker
    state["down"] = True
    request_stale_refresh()  # after a commit: must not raise
    assert sent == [] and "not queued" in caplog.text
    assert cache.get(REFRESH_QUEUED_KEY) is None  # the next commit tries again
    state["down"] = False
    request_stale_refresh()
    assert len(sent) == 1
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["reports.tasks.refresh_stale_summaries"] <= 60


def test_the_stored_columns_are_the_report_s():
    summary_columns = {f.column for f in PatientSummary._meta.concrete_fields}
    assert summary_columns == {"patient_id", "facts_until", "stale", *FACT_COLUMNS}
    finding_columns = {f.column for f in PatientFindings._meta.concrete_fields}
    expected = {f"n_{code.lower()}" for code in rules.FINDING_CODES}
    assert (
        finding_columns - {"id", "patient_id", "version", "steps", "blocking_steps", "blocked"}
        == expected
    )


def test_beat_gives_a_summary_to_every_patient_left_without_one():
    from reports.tasks import refresh_missing_summaries
    from rtuportal.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["reports.tasks.refresh_missing_summaries"] <= 600
    doctor = prescriber(specialty="psychiatry")
    for n in range(3):
        p = patient(
            doctor,
            sex="F",
            birth_year=1980,
            inclusion_date=date(2016, 1, 1 + n),
            treatment_status="pretreated",
            pretreatment_dose_mg=60,
            alcohol_g_per_day=80,
        )
        visit(
            p,
            date(2016, 2, 1),
            alcohol=40,
            craving=3,
            abstinent=False,
            steps=[(date(2016, 2, 1), 60 + 5 * n)],
        )
    summaries_refresh(patient_ids=[p.pk])
    whole = cohort_summary()
    assert refresh_missing_summaries.apply().get() == 2
    assert PatientSummary.objects.count() == 3 and PatientFindings.objects.count() == 3
    assert cohort_summary() == whole
    assert refresh_missing_summaries.apply().get() == 0


def _rows() -> tuple[list, list]:
    return (
        list(PatientSummary.objects.order_by("patient_id").values()),
        [
            {k: v for k, v in row.items() if k != "id"}
            for row in PatientFindings.objects.order_by("patient_id", "version").values()
        ],
    )


def test_one_patient_refreshes_are_prepared_and_give_the_bulk_rows():
    """The services' one-patient refresh (prepared on PostgreSQL after a few runs, then run
    from its stored plan) writes the rows the bulk refresh writes, patient after patient."""
    from django.db import connection

    rng = random.Random(11)
    _random_cohort(rng, 20)
    _random_events_and_stops(rng)
    summaries_refresh()
    bulk = _rows()
    PatientSummary.objects.all().delete()
    PatientFindings.objects.all().delete()
    ids = list(Patient.objects.values_list("pk", flat=True))
    for pk in ids + ids:  # 40 runs of each statement on this connection, every patient twice
        summaries_refresh(patient_ids=[pk])
    assert _rows() == bulk
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%INSERT INTO reports_patient%"],
            )
            assert cursor.fetchone()[0] == 2  # the summary and the findings statements


@pytest.mark.parametrize("seed", [3, 17])
def test_slices_add_up_to_the_whole_cohort(seed, monkeypatch, django_assert_num_queries):
    """Queries 1 and 6 run per slice of patient ids (here 7 ids a slice, about 8 slices): the
    report is the same as in one pass, whichever of its patients have a summary, a stale one or
    none, for every period."""
    from reports import statistics

    rng = random.Random(seed)
    _random_cohort(rng, 50)
    _random_events_and_stops(rng)
    ids = sorted(Patient.objects.values_list("pk", flat=True))
    summaries_refresh(patient_ids=rng.sample(ids, 30))
    PatientSummary.objects.filter(patient_id__in=rng.sample(ids, 8)).update(stale=True)
    whole = {period: cohort_summary(*period) for period in PERIODS}

    monkeypatch.setattr(statistics, "SLICE_IDS", 7)
    slices = len(statistics._slices(ids[0], ids[-1]))
    assert slices == (ids[-1] - ids[0]) // 7 + 1 >= 7
    for period in PERIODS:
        assert cohort_summary(*period) == whole[period], period
    # Queries 1 and 6 once per slice, the four others once.
    with django_assert_num_queries(statistics.QUERY_COUNT + 2 * (slices - 1)):
        cohort_summary()
