"""Writes of the pharmacovigilance app: a case, its follow-ups, and the CRPV notification claim.

Every function is keyword-only, runs in one transaction, validates with `full_clean()` and leaves
a history row. Validation errors are raised as a `ValidationError` keyed by form field name, so the
views show each message next to its field and nothing is written.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import Patient
from prescriptions.models import DoseStep
from prescriptions.rules import protocol_in_force
from reports.summaries import summaries_mark_stale
from rtuportal import outbox
from rtuportal.choices import Outcome, SeriousnessCriterion

from .models import CRPV, AdverseEvent, CRPVRegion, FollowUpReport, ReactionTerm

NOTIFY_TASK = "pharmacovigilance.tasks.notify_serious_case"


def _lock_patient(patient_id: int) -> None:
    """Serialise the writes on one patient (as prescriptions.services does) before a case's
    figures go into the patient's report summary, so that none of them works on a stale log."""
    Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True).get()


def dose_at_onset(*, patient: Patient, onset_date: date) -> int | None:
    """The daily dose the titration log gives for `onset_date` (visit and taper steps alike)."""
    return (
        DoseStep.objects.filter(patient=patient, start_date__lte=onset_date)
        .order_by("-start_date", "-pk")
        .values_list("daily_dose_mg", flat=True)
        .first()
    )


def protocol_version_on(onset_date: date) -> str:
    try:
        return protocol_in_force(onset_date).version
    except ValueError:  # before the RTU started: no protocol applies
        return ""


def crpv_for_region(region: str | None) -> CRPV | None:
    """The centre a region's cases are routed to (None when the directory has no entry)."""
    if not region:
        return None
    routing = CRPVRegion.objects.select_related("crpv").filter(region=region).first()
    return routing.crpv if routing else None


def _prescriber_region(patient: Patient) -> str | None:
    profile = getattr(patient.prescriber, "prescriber_profile", None)
    return profile.region if profile is not None else None


def _check_clinical_coherence(
    *, serious: bool, criteria: list[str], outcome: str, errors: dict[str, list[str]]
) -> None:
    if serious and not criteria:
        errors.setdefault("seriousness_criteria", []).append(
            _("A serious case needs at least one seriousness criterion.")
        )
    if not serious and criteria:
        errors.setdefault("seriousness_criteria", []).append(
            _("Seriousness criteria apply only to a serious case: answer “yes” to serious.")
        )
    if outcome == Outcome.FATAL and SeriousnessCriterion.DEATH not in criteria:
        errors.setdefault("outcome", []).append(
            _("A fatal outcome requires the seriousness criterion “death”.")
        )
    if SeriousnessCriterion.DEATH in criteria and outcome != Outcome.FATAL:
        errors.setdefault("outcome", []).append(
            _("The criterion “death” requires the outcome “fatal”.")
        )


def _normalise_criteria(criteria: list[str] | tuple[str, ...]) -> list[str]:
    # Stored in the vocabulary's order, without duplicates, so equal cases compare equal.
    chosen = set(criteria)
    unknown = chosen - set(SeriousnessCriterion.values)
    if unknown:
        raise ValidationError(
            {
                "seriousness_criteria": _("Unknown seriousness criterion: %(codes)s.")
                % {"codes": ", ".join(sorted(unknown))}
            }
        )
    return [c for c in SeriousnessCriterion.values if c in chosen]


def adverse_event_report(
    *,
    patient: Patient,
    reported_by,
    onset_date: date,
    term: ReactionTerm,
    serious: bool,
    seriousness_criteria: list[str],
    outcome: str,
    causality: str,
    action_taken: str,
    reporter_term: str = "",
    organ_class: str = "",
    description: str = "",
    dechallenge: str = AdverseEvent.Dechallenge.UNKNOWN,
    rechallenge: str = AdverseEvent.Dechallenge.UNKNOWN,
    today: date | None = None,
) -> AdverseEvent:
    """Record a case, route it to the prescriber's CRPV and, if serious, queue the alert.

    The dose at onset and the protocol version come from the titration log, never from the
    reporter. The alert is written to the outbox in the same transaction, so it is sent once the
    case is committed and never for a rolled-back case.
    """
    today = today or timezone.localdate()
    reporter_term = reporter_term.strip()
    criteria = _normalise_criteria(seriousness_criteria)
    errors: dict[str, list[str]] = {}
    if onset_date > today:
        errors.setdefault("onset_date", []).append(_("The onset date cannot be in the future."))
    if onset_date < patient.inclusion_date:
        errors.setdefault("onset_date", []).append(
            _("The onset date cannot be before the patient's inclusion (%(date)s).")
            % {"date": patient.inclusion_date.strftime("%d/%m/%Y")}
        )
    if not term.active:
        errors.setdefault("term", []).append(_("This reaction term is no longer in use."))
    if term.is_other and not reporter_term:
        errors.setdefault("reporter_term", []).append(
            _("Describe the reaction in your own words when you choose “other”.")
        )
    _check_clinical_coherence(serious=serious, criteria=criteria, outcome=outcome, errors=errors)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        _lock_patient(patient.pk)
        case = AdverseEvent(
            patient=patient,
            reported_by=reported_by,
            onset_date=onset_date,
            term=term,
            reporter_term=reporter_term,
            organ_class=(organ_class if term.is_other and organ_class else term.organ_class),
            description=description.strip(),
            serious=serious,
            seriousness_criteria=criteria,
            outcome=outcome,
            causality=causality,
            action_taken=action_taken,
            dechallenge=dechallenge,
            rechallenge=rechallenge,
            dose_at_onset_mg=dose_at_onset(patient=patient, onset_date=onset_date),
            protocol_version=protocol_version_on(onset_date),
            crpv=crpv_for_region(_prescriber_region(patient)),
            received_on=today,
            due_on=AdverseEvent.deadline_for(serious=serious, received_on=today),
        )
        case.full_clean()
        case._change_reason = "initial report"
        case.save()
        summaries_mark_stale(patient_id=patient.pk)
        if serious:
            outbox.enqueue(NOTIFY_TASK, case.pk)
    return case


def adverse_event_follow_up(
    *,
    case: AdverseEvent,
    reported_by,
    information: str,
    outcome: str,
    serious: bool | None = None,
    seriousness_criteria: list[str] | None = None,
    causality: str | None = None,
    action_taken: str | None = None,
    dechallenge: str | None = None,
    rechallenge: str | None = None,
    today: date | None = None,
) -> FollowUpReport:
    """Add new information to a case; the case's previous state stays in its history.

    A case that becomes serious gets the 15-day deadline (counted from this follow-up, never later
    than the deadline it had) and its alert, unless the CRPV was already notified.
    """
    today = today or timezone.localdate()
    information = information.strip()
    errors: dict[str, list[str]] = {}
    if not information:
        errors.setdefault("information", []).append(_("Describe the new information."))
    new_serious = case.serious if serious is None else serious
    new_criteria = (
        case.seriousness_criteria
        if seriousness_criteria is None
        else _normalise_criteria(seriousness_criteria)
    )
    if case.serious and not new_serious:
        errors.setdefault("serious", []).append(
            _("A serious case cannot be downgraded by a follow-up; contact the CRPV.")
        )
    _check_clinical_coherence(
        serious=new_serious, criteria=new_criteria, outcome=outcome, errors=errors
    )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        _lock_patient(case.patient_id)
        # Lock the case: two follow-ups at once must not both read the same version.
        locked = AdverseEvent.objects.select_for_update().get(pk=case.pk)
        became_serious = new_serious and not locked.serious
        follow_up = FollowUpReport(
            case=locked,
            received_on=today,
            outcome=outcome,
            information=information,
            reported_by=reported_by,
        )
        follow_up.full_clean()
        follow_up.save()
        locked.outcome = outcome
        locked.serious = new_serious
        locked.seriousness_criteria = new_criteria
        if causality is not None:
            locked.causality = causality
        if action_taken is not None:
            locked.action_taken = action_taken
        if dechallenge is not None:
            locked.dechallenge = dechallenge
        if rechallenge is not None:
            locked.rechallenge = rechallenge
        if became_serious:
            locked.due_on = min(
                locked.due_on, AdverseEvent.deadline_for(serious=True, received_on=today)
            )
        locked.version += 1
        locked.full_clean()
        locked._change_reason = f"follow-up {follow_up.pk}"
        locked.save()
        summaries_mark_stale(patient_id=locked.patient_id)
        if became_serious and locked.notified_at is None:
            outbox.enqueue(NOTIFY_TASK, locked.pk)
    case.refresh_from_db()
    return follow_up


def case_claim_notification(*, case_id: int, at: datetime | None = None) -> datetime | None:
    """Claim the right to notify a case: a conditional UPDATE, so only one worker ever wins.

    Returns the claim time, or None when the case was already notified (or claimed) elsewhere.
    """
    at = at or timezone.now()
    claimed = AdverseEvent.objects.filter(pk=case_id, notified_at=None).update(notified_at=at)
    return at if claimed else None


def case_release_notification(*, case_id: int, claimed_at: datetime) -> None:
    """Give the claim back after a failed send, so that the retry may claim it again."""
    AdverseEvent.objects.filter(pk=case_id, notified_at=claimed_at).update(notified_at=None)


def case_record_notification(*, case_id: int) -> None:
    """Write the history row of the notification (the claim itself is a bare UPDATE)."""
    with transaction.atomic():
        case = AdverseEvent.objects.select_for_update().get(pk=case_id)
        case._change_reason = "CRPV and agency notified"
        case.save(update_fields=["notified_at"])


def adverse_event_record_transmission(*, case: AdverseEvent) -> bool:
    """Record a transmission made outside the portal's alert (e.g. a non-serious case sent with
    the CRPV's periodic list). False when the case was already notified."""
    with transaction.atomic():
        if case_claim_notification(case_id=case.pk) is None:
            return False
        case_record_notification(case_id=case.pk)
    return True
