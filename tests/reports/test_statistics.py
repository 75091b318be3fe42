"""cohort_summary on a hand-built cohort (tests/reports/cohort.py): every key, computed by hand.

Each test runs twice: on the clinical tables alone (the cohort is written without the services,
so no patient has a report summary) and with every patient's summary computed
(reports.summaries), which the report then reads for the periods it answers for."""

from datetime import date

import pytest

from reports.statistics import QUERY_COUNT, cohort_summary
from reports.summaries import summaries_refresh
from tests.reports.cohort import build

pytestmark = pytest.mark.django_db

YEAR_2014 = (date(2014, 1, 1), date(2014, 12, 31))


@pytest.fixture(params=["clinical_tables", "summaries"])
def hand_cohort(request, db):
    built = build()
    if request.param == "summaries":
        summaries_refresh()
    return built


def test_every_key_for_2014(hand_cohort):
    s = cohort_summary(*YEAR_2014)
    # A, B (gp, initiation), C, D (addiction, pretreated); E (2015) is outside the period.
    assert s["period"] == {"from": "2014-01-01", "to": "2014-12-31"}
    assert s["patients"] == 4
    assert s["prescribers"] == 2
    assert s["prescribers_by_specialty_pct"] == {
        "general_practice": 50.0,
        "addiction": 50.0,
        "psychiatry": 0.0,
        "other": 0.0,
    }
    assert s["men_pct"] == 75.0  # A, C, D
    assert s["mean_age"] == 47.0  # (50 + 40 + 64 + 34) / 4
    assert s["initiation_pct"] == 50.0  # A, B
    assert s["reduction_among_initiation_pct"] == 50.0  # A
    assert s["followed_up"] == 3  # A, B, C (D has only the inclusion visit)
    assert s["followed_up_pct"] == 75.0
    assert s["stopped"] == 1  # B
    assert s["stopped_pct"] == 33.3
    # A: 0 - 100 (the 2015 visit is after date_to), B: 20 - 0 -> -40; C: 30 - 60.
    assert s["consumption_change_g_per_day"] == {"initiation": -40.0, "pretreated": -30.0}
    assert s["abstinent_at_inclusion_pct"] == {"initiation": 50.0, "pretreated": 0.0}
    assert s["abstinent_at_last_visit_pct"] == {"initiation": 50.0, "pretreated": 0.0}
    # A 8 -> 2, B 6 -> 6 (not improved); C 5 -> 3.
    assert s["craving_improved_pct"] == {"initiation": 50.0, "pretreated": 100.0}
    # Over the 3 followed-up patients; D's serious nausea does not count (not followed up).
    assert s["adverse_event_pct"] == {
        "any": 66.7,
        "possibly_related": 66.7,
        "serious": 33.3,
        "serious_possibly_related": 33.3,
    }
    assert s["organ_class_pct"]["nervous_system"] == 66.7  # A somnolence, B convulsion
    assert s["organ_class_pct"]["psychiatric"] == 33.3  # B anxiety
    assert s["organ_class_pct"]["gastrointestinal"] == 0.0
    assert s["term_pct"] == {"anxiety": 33.3, "convulsion": 33.3, "somnolence": 33.3}
    bands = {b["band"]: b["patients"] for b in s["dose_distribution"]["highest_dose_bands"]}
    # Highest dose up to date_to: A 45, B 15, C 130, D 40.
    assert bands == {"5-30": 1, "35-80": 2, "85-115": 0, "120-180": 1, "185-300": 0, ">300": 0}
    by_band = {
        b["band"]: (b["cases"], b["serious"]) for b in s["adverse_events_by_dose_band"]["bands"]
    }
    assert by_band["5-30"] == (2, 1)  # B: convulsion (serious), anxiety
    assert by_band["35-80"] == (1, 0)  # A: somnolence at 45
    assert s["adverse_events_by_dose_band"]["cases"] == 3
    [v2014] = s["protocol_findings"]
    assert v2014["version"] == "2014"
    assert v2014["steps"] == 8  # A 4, B 1, C 2, D 1
    assert v2014["patients"] == 4
    # A: 20 -> 30 one day after (too soon), 30 -> 45 (+15, too large); C: 130 before the
    # second opinion recorded on 1 July; 120 on 1 July is covered by it.
    assert v2014["findings"] == {
        "BEFORE_PROTOCOL": 0,
        "INVALID_DOSE": 0,
        "MAX_DOSE_EXCEEDED": 0,
        "SECOND_OPINION_REQUIRED": 1,
        "COLLEGIAL_OPINION_REQUIRED": 0,
        "MULTIDISCIPLINARY_CARE_REQUIRED": 0,
        "STARTING_DOSE_TOO_HIGH": 0,
        "STEP_TOO_LARGE": 1,
        "STEP_TOO_SOON": 1,
        "TAPER_TOO_FAST": 0,
    }
    assert v2014["blocking_steps"] == 1
    assert v2014["blocking_patients"] == 1


def test_whole_cohort_counts_later_visits(hand_cohort):
    s = cohort_summary()
    assert s["period"] == {"from": None, "to": None}
    assert s["patients"] == 5
    assert s["prescribers_by_specialty_pct"]["psychiatry"] == 33.3
    # A's last visit is now 2015 (200 g/day): A +100, B +20, E -40 -> 80 / 3.
    assert s["consumption_change_g_per_day"]["initiation"] == 26.7
    assert s["followed_up"] == 4


def test_empty_period_has_no_percentages(hand_cohort):
    s = cohort_summary(date(2020, 1, 1), date(2020, 12, 31))
    assert s["patients"] == 0
    assert s["men_pct"] is None
    assert s["adverse_event_pct"]["any"] is None
    assert s["protocol_findings"] == []


def test_query_count_does_not_grow_with_the_cohort(hand_cohort, django_assert_num_queries):
    # 1 patients aggregate, 2 prescribers aggregate, 3 adverse events by organ class,
    # 4 by term, 5 by dose band, 6 protocol findings (window query).
    with django_assert_num_queries(QUERY_COUNT):
        cohort_summary(*YEAR_2014)


def test_last_visit_values_at_their_limits(db):
    """The last follow-up visit's values come out of one packed integer: the largest values
    the visit constraints allow (1000 g/day, craving 10, abstinent) come back intact."""
    from tests.factories import prescriber
    from tests.reports.cohort import patient, visit

    doctor = prescriber(specialty="psychiatry")
    included = date(2014, 4, 1)
    for alcohol, craving, abstinent in ((0, 10, True), (1000, 0, False)):
        p = patient(
            doctor,
            sex="F",
            birth_year=1970,
            inclusion_date=included,
            treatment_status="initiation",
            alcohol_g_per_day=500,
            craving=5,
            abstinent=False,
        )
        visit(p, included, alcohol=500, craving=5, abstinent=False)
        visit(p, date(2014, 5, 1), alcohol=alcohol, craving=craving, abstinent=abstinent)
    s = cohort_summary()
    summaries_refresh()
    assert cohort_summary() == s
    assert s["followed_up"] == 2
    # (0 - 500 + 1000 - 500) / 2; one of two abstinent at the last visit; craving 10 > 5 and
    # 0 < 5: one of two improved.
    assert s["consumption_change_g_per_day"]["initiation"] == 0.0
    assert s["abstinent_at_last_visit_pct"]["initiation"] == 50.0
    assert s["craving_improved_pct"]["initiation"] == 50.0
