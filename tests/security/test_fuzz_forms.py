"""Dates and numbers fuzzed with hypothesis through the real forms: never a 500; a refused form
comes back with a visible field error; an accepted one saved sane values."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.models import Patient
from pharmacovigilance.models import AdverseEvent
from prescriptions.models import Visit
from reports.models import CohortReport
from tests.patients.prescriber_flow import include, inclusion_post, visit_post
from tests.pharmacovigilance.helpers import report_data

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ERROR_MARKERS = ("is-invalid", "invalid-feedback", "alert-danger", "errorlist", "text-danger")

odd_strings = st.sampled_from(
    [
        "",
        " ",
        "2014-02-30",
        "2014-13-01",
        "0000-00-00",
        "0001-01-01",
        "9999-12-31",
        "99999-01-01",
        "31/12/2014",
        "2014/12/31",
        "1e309",
        "NaN",
        "-0",
        "٣",  # Arabic-Indic digit
        "１２",  # full-width digits
        "12 mg",
        "0x1F",
        "2147483648",
        "-9223372036854775809",
        "99999999999999999999999",
    ]
)
values = st.one_of(
    odd_strings,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.text(max_size=12),
)


def mutated(base: dict, fields: list[str]):
    return st.dictionaries(st.sampled_from(fields), values, min_size=1, max_size=3).map(
        lambda changes: {**base, **changes}
    )


def assert_refused_visibly_or_saved(response, saved: bool) -> None:
    assert response.status_code < 500
    if saved:
        assert response.status_code == 302
    else:
        body = response.content.decode()
        assert any(m in body for m in ERROR_MARKERS), "refused without telling why"


def clean_text(data: dict) -> dict:
    """The test client cannot send NUL or lone surrogates in form data; browsers cannot either."""
    return {
        k: (v.replace("\x00", "").encode("utf-8", "replace").decode() if isinstance(v, str) else v)
        for k, v in data.items()
    }


INCLUSION_FIELDS = ["birth_year", "inclusion_date", "alcohol_g_per_day", "craving"]


def test_inclusion_form(alice_client):
    @FUZZ
    @given(data=mutated(inclusion_post(), INCLUSION_FIELDS))
    def run(data):
        before = Patient.objects.count()
        response = alice_client.post("/patients/new/", clean_text(data))
        saved = Patient.objects.count() > before
        assert_refused_visibly_or_saved(response, saved)
        if saved:
            patient = Patient.objects.order_by("-pk").first()
            assert 1900 < patient.birth_year < 2100
            assert 0 <= patient.craving <= 10 and patient.alcohol_g_per_day >= 0

    run()


VISIT_FIELDS = [
    "visit_date",
    "daily_dose_mg",
    "dose_morning_mg",
    "dose_noon_mg",
    "dose_evening_mg",
    "alcohol_g_per_day",
    "craving",
    "steps-0-start_date",
    "steps-0-daily_dose_mg",
]


def test_visit_form(alice_client, alice):
    patient = include(alice)
    base = visit_post(steps=[("2014-04-04", 20)])

    @FUZZ
    @given(data=mutated(base, VISIT_FIELDS))
    def run(data):
        before = Visit.objects.count()
        response = alice_client.post(f"/patients/{patient.code}/visits/new/", clean_text(data))
        saved = Visit.objects.count() > before
        assert_refused_visibly_or_saved(response, saved)
        if saved:
            visit = Visit.objects.order_by("-pk").first()
            assert 0 < visit.daily_dose_mg <= 300
            assert visit.visit_date >= patient.inclusion_date
            visit.delete()  # keep the patient at its initiation for the next example

    run()


def test_adverse_event_form(alice_client, alice):
    patient = include(alice)

    @FUZZ
    @given(data=mutated(report_data(), ["onset_date"]))
    def run(data):
        before = AdverseEvent.objects.count()
        response = alice_client.post(
            f"/patients/{patient.code}/adverse-events/new/", clean_text(data)
        )
        saved = AdverseEvent.objects.count() > before
        assert_refused_visibly_or_saved(response, saved)
        if saved:
            case = AdverseEvent.objects.order_by("-pk").first()
            assert patient.inclusion_date <= case.onset_date <= date.today()

    run()


def test_report_request_form(agency_client):
    base = {"preset": "custom", "language": "fr"}
    base.update(date_from="2014-03-01", date_to="2014-12-31")

    @FUZZ
    @given(data=mutated(base, ["date_from", "date_to"]))
    def run(data):
        before = CohortReport.objects.count()
        response = agency_client.post("/reports/", clean_text(data))
        saved = CohortReport.objects.count() > before
        if not saved and response.status_code == 302:
            # The same period is being built already: the user is sent to that report.
            pk = int(response.url.rstrip("/").rsplit("/", 1)[1])
            assert CohortReport.objects.filter(pk=pk).exists()
            return
        assert_refused_visibly_or_saved(response, saved)
        if saved:
            report = CohortReport.objects.order_by("-pk").first()
            assert report.date_from or report.date_to
            if report.date_from and report.date_to:
                assert report.date_from <= report.date_to

    run()


def test_case_list_filters(agency_client):
    @FUZZ
    @given(
        params=st.dictionaries(
            st.sampled_from(["received_from", "received_to", "page", "serious", "region"]),
            values,
            max_size=3,
        )
    )
    def run(params):
        response = agency_client.get("/pharmacovigilance/", clean_text(params))
        assert response.status_code < 500

    run()
