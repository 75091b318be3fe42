"""The agency's case list, case page, CSV export and dose-band table; CRPV-limited staff."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from pharmacovigilance.models import CRPV, AgencyProfile
from pharmacovigilance.views import csv_safe
from tests.factories import PatientFactory
from tests.pharmacovigilance.helpers import frozen, make_case, term

LIST = "/pharmacovigilance/"


@pytest.fixture
def cases(patient, bob_patient):
    """Four cases: alice's patient (Lyon) ×3 at 15, 60 and unknown dose; bob's (Paris) ×1."""
    with frozen(date(2014, 4, 20)):
        early = make_case(patient, onset_date=date(2014, 4, 3), today=date(2014, 4, 20),
                          term=term("dizziness"))  # fmt: skip
    with frozen():
        serious = make_case(patient, serious=True, seriousness_criteria=["hospitalisation"],
                            term=term("convulsion"), causality="probable")  # fmt: skip
        other = make_case(patient, term=term("other"), reporter_term="=HYPERLINK(\"x\")",
                          organ_class="skin")  # fmt: skip
        paris = make_case(bob_patient, onset_date=date(2014, 5, 3), term=term("nausea"))
    return {"early": early, "serious": serious, "other": other, "paris": paris}


def test_list_shows_cases_counts_and_overdue(agency_client, cases):
    with frozen(date(2014, 7, 10)):  # the serious case's 15 days are over, not the 90
        response = agency_client.get(LIST)
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts == {"total": 4, "serious": 1, "overdue": 1, "patients": 2}
    html = response.content.decode()
    assert html.count("pv-overdue") == 1
    rows = list(response.context["page"])
    assert rows[0] == cases["serious"]  # earliest due date first


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"serious": "yes"}, {"serious"}),
        ({"serious": "no"}, {"early", "other", "paris"}),
        ({"organ_class": "nervous_system"}, {"early", "serious"}),
        ({"term": "nausea"}, {"paris"}),
        ({"causality": "probable"}, {"serious"}),
        ({"region": "11"}, {"paris"}),
        ({"protocol_version": "2014"}, {"early", "serious", "other", "paris"}),
        ({"protocol_version": "2017"}, set()),
        ({"dose_band": "le80"}, {"early", "serious", "other"}),
        ({"dose_band": "unknown"}, {"paris"}),
        ({"dose_band": "81_120"}, set()),
        ({"received_from": "2014-05-01"}, {"serious", "other", "paris"}),
        ({"received_to": "2014-04-30"}, {"early"}),
        ({"overdue": "on"}, {"serious"}),
    ],
)
def test_filters(agency_client, cases, params, expected):
    with frozen(date(2014, 7, 10)):
        response = agency_client.get(LIST, params)
    names = {name for name, case in cases.items() if case in response.context["page"]}
    assert names == expected
    assert response.context["counts"]["total"] == len(expected)


def test_dose_band_table(agency_client, cases, bob_patient):
    with frozen():
        make_case(bob_patient, onset_date=date(2014, 5, 4), term=term("somnolence"))
    table = agency_client.get(LIST).context["dose_table"]
    bands = [code for code, _label in table.bands]
    nervous = next(r for r in table.rows if r["organ_class"] == "nervous_system")
    assert nervous["cells"][bands.index("le80")] == (2, 1)  # two cases, one patient
    assert nervous["cells"][bands.index("unknown")] == (1, 1)
    assert table.totals[bands.index("le80")] == (3, 1)
    assert table.totals[bands.index("unknown")] == (2, 1)


def test_list_query_count_is_pinned(agency_client, cases, django_assert_num_queries):
    for _ in range(5):
        with frozen():
            make_case(PatientFactory(), onset_date=date(2014, 5, 3))
    # 1 session, 2 user, 3 TOTP device (second-factor middleware), 4 terms of the filter form,
    # 5 agency profile (CRPV scope), 6 paginator count, 7 counts aggregate, 8 dose band × organ
    # class, 9 dose band totals, 10 page of cases with patient, term, CRPV and prescriber profile,
    # 11-13 session touch in a savepoint (first request of the minute: IdleSessionMiddleware)
    with django_assert_num_queries(13):
        agency_client.get(LIST)


def test_prescriber_cannot_see_the_list(alice_client, bob_client, cases):
    assert alice_client.get(LIST).status_code == 403
    assert alice_client.get(reverse("pharmacovigilance:csv")).status_code == 403
    assert alice_client.get(reverse("pharmacovigilance:e2b_batch")).status_code == 403


def test_anonymous_is_sent_to_login(client, cases):
    for url in (LIST, reverse("pharmacovigilance:csv"),
                reverse("pharmacovigilance:detail", args=[cases["serious"].pk])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_case_page_for_the_reporter_and_the_agency(alice_client, agency_client, cases):
    url = reverse("pharmacovigilance:detail", args=[cases["serious"].pk])
    response = alice_client.get(url)
    assert response.status_code == 200
    assert "BAC-A001-0001" in response.content.decode()
    assert (
        reverse("patient_adverse_events:follow_up", args=["BAC-A001-0001", cases["serious"].pk])
        in response.content.decode()
    )
    assert agency_client.get(url).status_code == 200


def test_bob_cannot_read_alices_case(bob_client, cases):
    pk = cases["serious"].pk
    assert bob_client.get(reverse("pharmacovigilance:detail", args=[pk])).status_code == 404
    assert bob_client.get(reverse("pharmacovigilance:e2b", args=[pk])).status_code == 404
    follow_up = reverse("patient_adverse_events:follow_up", args=["BAC-A001-0001", pk])
    assert bob_client.get(follow_up).status_code == 404


def test_case_page_query_count(alice_client, cases, django_assert_num_queries):
    url = reverse("pharmacovigilance:detail", args=[cases["serious"].pk])
    # 1 session, 2 user, 3 case with patient, term, CRPV and reporter, 4 follow-ups,
    # 5-7 session touch in a savepoint (first request of the minute)
    with django_assert_num_queries(7):
        alice_client.get(url)


def test_crpv_staff_see_only_their_centre(agency, agency_client, cases):
    AgencyProfile.objects.create(user=agency, crpv=CRPV.objects.get(city="Paris"))
    response = agency_client.get(LIST)
    assert list(response.context["page"]) == [cases["paris"]]
    assert response.context["counts"]["total"] == 1
    lyon_case = reverse("pharmacovigilance:detail", args=[cases["serious"].pk])
    assert agency_client.get(lyon_case).status_code == 404
    assert (
        agency_client.get(reverse("pharmacovigilance:detail", args=[cases["paris"].pk])).status_code
        == 200
    )
    body = agency_client.get(reverse("pharmacovigilance:csv")).content.decode()
    assert "BAC-A001-0001" not in body and "BAC-B001-0001" in body


def test_csv_is_pseudonymous_and_neutralises_formulas(agency_client, cases):
    response = agency_client.get(reverse("pharmacovigilance:csv"), {"organ_class": "skin"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["case_id", "patient_code", "region"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["patient_code"] == "BAC-A001-0001"
    assert row["reaction"] == '\'=HYPERLINK("x")'
    body = response.content.decode()
    assert "alice" not in body.lower() and "rpps" not in body.lower()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33", "'+33"),
        ("-2", "'-2"),
        ("@SUM", "'@SUM"),
        ("ok", "ok"),
        (None, ""),
    ],
)
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


def test_agency_records_a_transmission(agency_client, cases):
    url = reverse("pharmacovigilance:mark_transmitted", args=[cases["paris"].pk])
    with frozen():
        assert agency_client.post(url).status_code == 302
    cases["paris"].refresh_from_db()
    assert cases["paris"].notified_at is not None
    assert cases["paris"].history.first().history_change_reason == "CRPV and agency notified"


def test_prescriber_cannot_record_a_transmission(alice_client, cases):
    url = reverse("pharmacovigilance:mark_transmitted", args=[cases["early"].pk])
    assert alice_client.post(url).status_code == 403
