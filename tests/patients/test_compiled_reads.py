"""rtuportal.queries: querysets compiled once give what the ORM gives, on every later value."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db.models import Q
from prescriber_flow import include, visit_post

from patients import selectors, views
from patients.models import Patient
from prescriptions import services
from prescriptions.models import DoseStep, Visit
from rtuportal.queries import PLACEHOLDER, TEXT_PLACEHOLDER, CompiledInstances, CompiledValues

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def two_patients(alice, alice_client):
    """Two patients with visits, steps, a correction and a stop: history in every table."""
    made = []
    with time_machine.travel("2014-06-20 10:00:00+00:00", tick=False):
        for _ in range(2):
            patient = include(alice, inclusion_date=date(2014, 4, 1))
            url = f"/patients/{patient.code}/visits/new/"
            response = alice_client.post(
                url, visit_post(visit_date="2014-04-01", steps=[("2014-04-04", 20)])
            )
            assert response.status_code == 302, response.content.decode()[:2000]
            second = visit_post(visit_date="2014-05-01", daily_dose_mg="20")
            second.update(dose_morning_mg="10", dose_noon_mg="0", dose_evening_mg="10")
            response = alice_client.post(url, second)
            assert response.status_code == 302, response.content.decode()[:2000]
            made.append(Patient.objects.get(pk=patient.pk))
        visit = made[0].visits.order_by("visit_date").last()
        second.update(version=str(visit.version), reason="typo", visit_id=str(visit.pk))
        second.update(alcohol_g_per_day="35", craving="3")
        edit = f"/patients/{made[0].code}/visits/{visit.pk}/edit/"
        assert alice_client.post(edit, second).status_code == 302
        services.stop_record(
            patient=made[1],
            by=alice,
            stop_date=date(2014, 6, 1),
            reason="patient_decision",
            warnings_acknowledged=True,
        )
    return [Patient.objects.get(pk=p.pk) for p in made]


def test_values_equal_the_orm_for_every_value(two_patients):
    def build(pk):
        return (
            Visit.history.filter(patient_id=pk)
            .values("id", "history_date", "history_type", "history_user__email", "visit_date")
            .order_by("id", "history_date")
        )

    compiled = CompiledValues(build)
    for patient in [*two_patients, *two_patients]:  # compiled on the first, reused after
        rows = compiled(patient.pk)
        assert rows == list(build(patient.pk))
        assert rows and all(isinstance(row["visit_date"], date) for row in rows)
    assert compiled(-5) == []


def test_instances_equal_the_orm_and_carry_the_patient(two_patients, django_assert_num_queries):
    for patient in two_patients:
        with django_assert_num_queries(3):
            visits, steps, stops = services.patient_records(patient)
        assert [_fields(v) for v in visits] == [_fields(v) for v in patient.visits.all()]
        assert [_fields(s) for s in steps] == [
            _fields(s) for s in DoseStep.objects.filter(patient=patient)
        ]
        assert [_fields(s) for s in stops] == [_fields(s) for s in patient.stops.all()]
        with django_assert_num_queries(0):
            assert all(v.patient is patient for v in visits)
        assert visits and steps
        # Loaded instances behave as the ORM's: saved in place, not inserted again.
        assert not visits[0]._state.adding and visits[0]._state.db == "default"
    assert [len(services.patient_records(p)[2]) for p in two_patients] == [0, 1]


def test_history_equals_simple_history_diffs(two_patients):
    """The patient page's history is what simple_history's own diff_against gives."""
    for patient in two_patients:
        expected = []
        for label, model, _read in views._history_sources():
            key = "id" if model is Patient else "patient_id"
            records = list(model.history.filter(**{key: patient.pk}).order_by("id", "history_date"))
            for i, record in enumerate(records):
                previous = records[i - 1] if i and records[i - 1].id == record.id else None
                internal = ["version", "updated_at"]  # not shown: not clinical facts
                changes = (
                    record.diff_against(previous, excluded_fields=internal).changes
                    if previous
                    else []
                )
                fields = sorted(str(model._meta.get_field(c.field).verbose_name) for c in changes)
                expected.append((str(label), record.history_date, record.history_type, fields))
        entries = views._history(patient, None, None)
        got = [
            (e["what"], e["when"], str(e["type"]), sorted(c["field"] for c in e["changes"]))
            for e in entries
        ]
        kinds = dict(Visit.history.model._meta.get_field("history_type").choices)
        expected = [(w, when, str(kinds[t]), f) for w, when, t, f in expected]
        assert sorted(got, key=repr) == sorted(expected, key=repr)
        assert [e["when"] for e in entries] == sorted((e["when"] for e in entries), reverse=True)
    assert any(e["changes"] for e in views._history(two_patients[0], None, None))
    assert any(
        e["what"] == str(views._history_sources()[2][0])
        for e in views._history(two_patients[1], None, None)
    )


def test_own_patient_read_equals_the_orm_for_every_code_and_prescriber(
    two_patients, alice, bob, django_assert_num_queries
):
    """get_patient_for_user's compiled read (a text and an integer value) gives the ORM's
    instance for the owner, and nothing for another prescriber or an unknown code."""
    bobs = include(bob)
    for patient in [*two_patients, bobs, *two_patients]:
        for user in (alice, bob):
            expected = list(Patient.objects.filter(code=patient.code, prescriber=user))
            with django_assert_num_queries(1):
                got = selectors._own_patient(patient.code, user.pk)
            assert [_fields(p) for p in got] == [_fields(p) for p in expected]
            assert all(not p._state.adding and p._state.db == "default" for p in got)
    assert [p.pk for p in selectors._own_patient(bobs.code, bob.pk)] == [bobs.pk]
    assert selectors._own_patient("BAC-0000-0000", alice.pk) == []
    assert selectors.get_patient_for_user(alice, two_patients[0].code.lower()) == two_patients[0]


def test_every_value_needs_its_own_placeholder_once():
    with pytest.raises(ValueError, match="its own placeholder"):
        CompiledInstances(lambda a, b: Visit.objects.none(), placeholders=(1, 1))
    twice = CompiledInstances(
        lambda code, pk: Patient.objects.filter(code=code, prescriber_id=pk, id=pk),
        placeholders=(TEXT_PLACEHOLDER, PLACEHOLDER),
    )
    with pytest.raises(ValueError, match="once"):
        twice("BAC-0000-0000", 1)
    with pytest.raises(TypeError, match="2 values expected"):
        selectors._own_patient("BAC-0000-0000")


def test_refuses_what_it_cannot_rebuild(two_patients):
    with pytest.raises(TypeError):
        CompiledInstances(lambda pk: Visit.objects.filter(patient_id=pk).select_related("patient"))(
            1
        )
    with pytest.raises(TypeError):
        CompiledValues(lambda pk: Visit.objects.filter(patient_id=pk))(1)
    with pytest.raises(ValueError, match="once"):
        CompiledInstances(lambda pk: Visit.objects.filter(Q(patient_id=pk) | Q(created_by_id=pk)))(
            1
        )


def test_patient_page_lists_the_adverse_events_newest_first_in_the_language(
    alice_client, alice_patient
):
    from django.db.models import F

    from pharmacovigilance.models import AdverseEvent, ReactionTerm
    from tests.pharmacovigilance.helpers import make_case

    other = ReactionTerm.objects.exclude(code__in=["somnolence", "other"])
    other = other.exclude(label_en=F("label_fr")).order_by("code").first()
    older = make_case(alice_patient, term=other, causality="unlikely")
    newer = make_case(alice_patient)
    AdverseEvent.objects.filter(pk=older.pk).update(onset_date=newer.onset_date - timedelta(1))
    url = f"/patients/{alice_patient.code}/"
    rows = alice_client.get(url).context["adverse_events"]
    assert [r["term"] for r in rows] == [newer.term.label_fr, other.label_fr]
    assert [r["serious"] for r in rows] == [newer.serious, False]
    alice_client.cookies["django_language"] = "en"
    body = alice_client.get(url).content.decode()
    assert other.label_fr not in body
    assert body.index(newer.term.label_en) < body.index(other.label_en)


def test_history_managers_share_one_class_and_keep_their_instance(two_patients):
    """rtuportal.apps builds simple_history's manager class once: each read of `.history`
    still gives a manager of its own, bound to its instance as before."""
    first, second = two_patients
    assert type(Patient.history) is type(Patient.history)
    assert Patient.history is not Patient.history
    assert Patient.history.instance is None and Patient.history.count() >= 2
    assert {h.id for h in first.history.all()} == {first.pk}
    assert {h.id for h in second.history.all()} == {second.pk}
    assert first.history.model is Patient.history.model
