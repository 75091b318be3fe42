"""Routing to the CRPV of the prescriber's region, dose at onset, deadlines and follow-ups."""

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from pharmacovigilance import services
from pharmacovigilance.models import CRPV, AdverseEvent, CRPVRegion, FollowUpReport
from prescriptions.models import StopOfTreatment
from rtuportal.choices import Region
from tests.factories import DoseStepFactory, PatientFactory, VisitFactory, prescriber
from tests.pharmacovigilance.helpers import frozen, make_case, term


def test_every_region_is_routed_to_a_crpv(db):
    routed = dict(CRPVRegion.objects.values_list("region", "crpv__city"))
    assert set(routed) == set(Region.values)
    assert routed["84"] == "Lyon" and routed["11"] == "Paris" and routed["94"] == "Marseille"
    assert all(c.email.endswith("@pharmacovigilance.example.fr") for c in CRPV.objects.all())


def test_case_goes_to_the_crpv_of_the_prescribers_region(patient, bob_patient, today):
    assert make_case(patient).crpv.city == "Lyon"
    assert make_case(bob_patient, onset_date=date(2014, 5, 3)).crpv.city == "Paris"


def test_rerouting_a_region_applies_to_new_cases(patient, today):
    grenoble = CRPV.objects.get(city="Grenoble")
    CRPVRegion.objects.filter(region="84").update(crpv=grenoble)
    assert make_case(patient).crpv == grenoble


def test_unrouted_region_still_records_the_case(patient, today):
    CRPVRegion.objects.filter(region="84").delete()
    assert make_case(patient).crpv is None


@pytest.mark.parametrize(
    ("onset", "dose"),
    [
        (date(2014, 4, 2), 15),  # the inclusion day's step
        (date(2014, 4, 4), 15),
        (date(2014, 4, 5), 20),  # a step applies from its start date
        (date(2014, 4, 30), 20),  # the visit of the 30th planned 60 from 1 May
        (date(2014, 5, 20), 60),
    ],
)
def test_dose_at_onset_follows_the_titration_log(patient, onset, dose):
    assert services.dose_at_onset(patient=patient, onset_date=onset) == dose


def test_dose_at_onset_includes_the_taper_of_a_stop(patient):
    stop = StopOfTreatment.objects.create(
        patient=patient, stop_date=date(2014, 5, 20), reason="adverse_event"
    )
    DoseStepFactory(visit=None, stop=stop, patient=patient, start_date=date(2014, 5, 20),
                    daily_dose_mg=30)  # fmt: skip
    DoseStepFactory(visit=None, stop=stop, patient=patient, start_date=date(2014, 5, 25),
                    daily_dose_mg=0)  # fmt: skip
    assert services.dose_at_onset(patient=patient, onset_date=date(2014, 5, 21)) == 30
    assert services.dose_at_onset(patient=patient, onset_date=date(2014, 5, 30)) == 0


def test_dose_at_onset_is_unknown_without_steps(alice):
    patient = PatientFactory(prescriber=alice)
    assert services.dose_at_onset(patient=patient, onset_date=date(2014, 5, 1)) is None


def test_protocol_version_at_onset(alice):
    patient = PatientFactory(prescriber=alice, inclusion_date=date(2017, 7, 1))
    visit = VisitFactory(patient=patient, visit_date=date(2017, 7, 1), daily_dose_mg=90)
    DoseStepFactory(visit=visit, start_date=date(2017, 7, 1), daily_dose_mg=90)
    with frozen(date(2017, 8, 1)):
        before = make_case(patient, onset_date=date(2017, 7, 23), today=date(2017, 8, 1))
        after = make_case(patient, onset_date=date(2017, 7, 24), today=date(2017, 8, 1))
    assert (before.protocol_version, after.protocol_version) == ("2014", "2017")
    assert before.dose_at_onset_mg == 90


def test_deadlines(patient, today):
    assert make_case(patient).due_on == date(2014, 8, 31)
    serious = make_case(patient, serious=True, seriousness_criteria=["life_threatening"],
                        term=term("coma"))  # fmt: skip
    assert serious.due_on == date(2014, 6, 17)


def test_overdue_only_until_notified(patient):
    with frozen():
        case = make_case(patient)
    assert not case.is_overdue(date(2014, 8, 31))
    assert case.is_overdue(date(2014, 9, 1))
    services.adverse_event_record_transmission(case=case)
    case.refresh_from_db()
    assert not case.is_overdue(date(2014, 9, 1))


def test_follow_up_keeps_the_history(patient, today):
    case = make_case(patient, outcome="recovering")
    with frozen(date(2014, 6, 10)):
        follow_up = services.adverse_event_follow_up(
            case=case, reported_by=patient.prescriber, information="Recovered after reduction.",
            outcome="recovered", causality="probable",
        )  # fmt: skip
    case.refresh_from_db()
    assert follow_up.received_on == date(2014, 6, 10)
    assert (case.outcome, case.causality, case.version) == ("recovered", "probable", 2)
    assert [h.outcome for h in case.history.order_by("history_date")] == ["recovering", "recovered"]
    assert FollowUpReport.objects.get().history.count() == 1


def test_follow_up_making_a_case_serious_alerts_and_shortens_the_deadline(
    patient, today, django_capture_on_commit_callbacks
):
    case = make_case(patient)
    with django_capture_on_commit_callbacks(execute=True):
        services.adverse_event_follow_up(
            case=case, reported_by=patient.prescriber, information="Hospitalised on 1 June.",
            outcome="recovering", serious=True, seriousness_criteria=["hospitalisation"],
        )  # fmt: skip
    case.refresh_from_db()
    assert case.serious and case.due_on == date(2014, 6, 17)
    assert len(mail.outbox) == 1 and case.notified_at is not None


def test_follow_up_validation_writes_nothing(patient, today):
    case = make_case(patient)
    with pytest.raises(ValidationError) as error:
        services.adverse_event_follow_up(
            case=case, reported_by=patient.prescriber, information="Died.", outcome="fatal"
        )
    assert "outcome" in error.value.message_dict
    case.refresh_from_db()
    assert case.outcome == "recovered" and case.version == 1
    assert not FollowUpReport.objects.exists()
    assert AdverseEvent.history.count() == 1


def test_any_prescriber_is_routed_by_the_region_of_their_profile(db):
    doctor = prescriber(region="84")
    patient = PatientFactory(prescriber=doctor)
    with frozen():
        assert make_case(patient).crpv.city == "Lyon"
