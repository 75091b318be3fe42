"""The import validates a visit and its dose steps inline first (reports.importer._visit and
_steps) and falls back on the field-by-field checks only for what the inline test does not
accept. Whatever the input, both must give the same visit, or the same first error."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from reports import importer

INCLUSION, TODAY = date(2014, 4, 2), date(2026, 12, 2)

days = st.one_of(
    st.dates(date(2014, 1, 1), date(2027, 12, 31)).map(date.isoformat),
    st.sampled_from(["2014-04-02", "2014-04-01", "2026-12-02", "2026-12-03", "2015-02-30"]),
    st.sampled_from(["2014-4-2", "02/04/2014", "", "20140402", " 2014-04-02"]),
    st.integers(),
    st.none(),
)
values = st.one_of(
    st.integers(-10, 1010),
    st.sampled_from([0, 5, 10, 80, 1000, 1005, True, False, None, 40.0, "40", [], {}]),
)
steps = st.lists(
    st.one_of(
        st.tuples(days, values).map(list),
        st.lists(values, max_size=3),
        values,
    ),
    max_size=4,
)
good_days = st.dates(INCLUSION, TODAY).map(date.isoformat)
good_steps = st.lists(
    st.tuples(good_days, st.integers(1, 200).map(lambda n: 5 * n)).map(list), max_size=4
)
good_visits = st.fixed_dictionaries(
    {
        "visit_date": good_days,
        "daily_dose_mg": st.integers(1, 200).map(lambda n: 5 * n),
        "alcohol_g_per_day": st.integers(0, 1000),
        "craving": st.integers(0, 10),
        "abstinent": st.booleans(),
    },
    optional={
        "second_opinion": st.booleans(),
        "collegial_opinion": st.booleans(),
        "multidisciplinary_care": st.booleans(),
        "steps": good_steps,
    },
)
KEYS = [
    "visit_date",
    "daily_dose_mg",
    "alcohol_g_per_day",
    "craving",
    "abstinent",
    "second_opinion",
    "collegial_opinion",
    "multidisciplinary_care",
    "steps",
]


@st.composite
def visits(draw):
    """A valid visit with none, one or two of its fields replaced or removed: the inputs on
    either side of the inline test's border."""
    visit = draw(good_visits)
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=2, unique=True)):
        if draw(st.booleans()):
            visit.pop(key, None)
        else:
            visit[key] = draw(steps if key == "steps" else days if key == "visit_date" else values)
    return visit


def outcome(check, *args):
    try:
        return "ok", check(*args)
    except importer._Invalid as exc:
        return "invalid", str(exc)


def steps_checked(value, where, not_before, today):
    """The checks of _steps without the inline test."""
    if not isinstance(value, list):
        raise importer._Invalid(f"{where} must be a list of [date, dose]")
    return [importer._step(s, f"{where}[{i}]", not_before, today) for i, s in enumerate(value)]


@settings(max_examples=400, deadline=None)
@given(st.one_of(steps, good_steps))
def test_steps_inline_and_checked_agree(value):
    assert outcome(importer._steps, value, "visits[0].steps", INCLUSION, TODAY) == outcome(
        steps_checked, value, "visits[0].steps", INCLUSION, TODAY
    )


@settings(max_examples=400, deadline=None)
@given(st.one_of(visits(), values))
def test_visit_inline_and_checked_agree(value):
    assert outcome(importer._visit, value, "visits[1]", INCLUSION, TODAY) == outcome(
        importer._visit_checked, value, "visits[1]", INCLUSION, TODAY
    )


def test_a_well_formed_visit_takes_the_inline_path(monkeypatch):
    monkeypatch.setattr(importer, "_visit_checked", None)
    monkeypatch.setattr(importer, "_step", None)
    visit = {
        "visit_date": "2014-05-02",
        "daily_dose_mg": 40,
        "alcohol_g_per_day": 40,
        "craving": 3,
        "abstinent": False,
        "steps": [["2014-05-02", 30], ["2014-05-05", 40]],
    }
    assert importer._visit(visit, "visits[1]", INCLUSION, TODAY) == {
        "visit_date": date(2014, 5, 2),
        "daily_dose_mg": 40,
        "alcohol_g_per_day": 40,
        "craving": 3,
        "abstinent": False,
        "second_opinion": False,
        "collegial_opinion": False,
        "multidisciplinary_care": False,
        "steps": [(date(2014, 5, 2), 30), (date(2014, 5, 5), 40)],
    }
