"""The effective titration log (pure, no database): later plans supersede earlier ones."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from patients.forms import InclusionForm
from prescriptions import timeline

START = date(2014, 4, 1)


def visit(pk, day, dose, **opinions):
    return SimpleNamespace(
        pk=pk,
        visit_date=day,
        daily_dose_mg=dose,
        second_opinion=opinions.get("second_opinion", False),
        collegial_opinion=opinions.get("collegial_opinion", False),
        multidisciplinary_care=opinions.get("multidisciplinary_care", False),
    )


def step(pk, day, dose, *, visit_id=None, stop_id=None):
    return SimpleNamespace(
        pk=pk, start_date=day, daily_dose_mg=dose, visit_id=visit_id, stop_id=stop_id
    )


def test_a_later_visit_supersedes_the_rest_of_the_earlier_plan():
    visits = [visit(1, START, 15), visit(2, START + timedelta(days=5), 20)]
    steps = [
        step(1, START, 15, visit_id=1),
        step(2, START + timedelta(days=3), 20, visit_id=1),
        step(3, START + timedelta(days=6), 25, visit_id=1),  # superseded by visit 2
        step(4, START + timedelta(days=5), 20, visit_id=2),
    ]
    log = timeline.effective_log(
        inclusion_date=START, pretreatment_dose_mg=None, visits=visits, steps=steps, stops=[]
    )
    assert [(s.start_date.day, s.daily_dose_mg) for s in log] == [(1, 15), (4, 20), (6, 20)]


def test_a_stop_ends_with_dose_zero_and_resets_the_previous_dose():
    visits = [visit(1, START, 30)]
    stop = SimpleNamespace(pk=9, stop_date=START + timedelta(days=10))
    steps = [
        step(1, START, 30, visit_id=1),
        step(2, START + timedelta(days=6), 15, stop_id=9),
    ]
    log = timeline.effective_log(
        inclusion_date=START, pretreatment_dose_mg=None, visits=visits, steps=steps, stops=[stop]
    )
    assert [(s.kind, s.daily_dose_mg) for s in log] == [("visit", 30), ("taper", 15), ("stop", 0)]
    assert timeline.previous_before(log, START + timedelta(days=20)) is None
    assert timeline.dose_on(log, START + timedelta(days=7)) == 15


def test_pretreatment_dose_is_the_previous_dose_without_a_date():
    log = timeline.effective_log(
        inclusion_date=START, pretreatment_dose_mg=90, visits=[], steps=[], stops=[]
    )
    assert timeline.previous_before(log, START + timedelta(days=1)) == (None, 90)


def test_opinions_recorded_before_the_date_count():
    visits = [visit(1, START, 15, second_opinion=True), visit(2, START + timedelta(days=9), 15)]
    assert timeline.opinions_on(visits, START)["second_opinion"]
    assert not timeline.opinions_on(visits, START - timedelta(days=1))["second_opinion"]
    assert not timeline.opinions_on(visits, START, exclude_visit_id=1)["second_opinion"]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 120),
            st.lists(st.tuples(st.integers(0, 40), st.integers(1, 60)), max_size=6),
        ),
        max_size=6,
        unique_by=lambda v: v[0],
    )
)
def test_the_log_is_always_in_date_order(plans):
    visits, steps = [], []
    for pk, (offset, planned) in enumerate(plans, start=1):
        day = START + timedelta(days=offset)
        visits.append(visit(pk, day, 15))
        steps.append(step(len(steps) + 1, day, 15, visit_id=pk))
        for extra, dose in planned:
            steps.append(step(len(steps) + 1, day + timedelta(days=extra), dose * 5, visit_id=pk))
    log = timeline.effective_log(
        inclusion_date=START, pretreatment_dose_mg=None, visits=visits, steps=steps, stops=[]
    )
    dates = [s.start_date for s in log]
    assert dates == sorted(dates)
    assert len(log) >= len(visits)


@given(st.decimals(min_value=0, max_value=100, places=1))
def test_standard_drinks_convert_to_grams(drinks: Decimal):
    form = InclusionForm(
        data={
            "sex": "F",
            "birth_year": "1970",
            "inclusion_date": "2015-01-10",
            "indication": "reduction",
            "treatment_status": "initiation",
            "alcohol_drinks_per_day": str(drinks),
            "craving": "5",
            "abstinent": "no",
            "psychosocial_care": "yes",
            "informed_of_rtu": "on",
        }
    )
    assert form.is_valid(), form.errors
    expected = int(drinks * 10)  # one decimal place: always a whole number of grams
    assert form.cleaned_data["alcohol_g_per_day"] == expected
