"""Writes on patients: one transaction each, history rows written with them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from prescriptions import rules
from rtuportal.choices import Contraindication, Indication, Sex, TreatmentStatus

from .codes import generate_code
from .models import Patient

MIN_AGE = 18
MAX_AGE = 100
MAX_ALCOHOL_G_PER_DAY = 1000
# Baclocur (2021): high-risk drinking is more than 60 g/day for men, 40 g/day for women.
HIGH_RISK_G_PER_DAY = {Sex.MALE: 60, Sex.FEMALE: 40}
OLDER_PATIENT_AGE_ABOVE = rules.OLDER_PATIENT_AGE_ABOVE


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def inclusion_errors(
    *,
    sex: str,
    birth_year: int,
    inclusion_date: date,
    indication: str,
    treatment_status: str,
    pretreatment_dose_mg: int | None,
    alcohol_g_per_day: int,
    craving: int,
    informed_of_rtu: bool,
    contraindications: Sequence[str],
    today: date,
) -> dict[str, list[str]]:
    """Every reason to refuse this inclusion, by field ("__all__" for the whole form)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for code in contraindications:
        label = Contraindication(code).label
        add(
            "contraindications",
            _(
                "Contraindication: %(label)s. Baclofen cannot be prescribed under the RTU; "
                "the patient is not included."
            )
            % {"label": label},
        )
    if inclusion_date > today:
        add("inclusion_date", _("The inclusion date cannot be in the future."))
    elif inclusion_date < rules.RTU_START:
        add(
            "inclusion_date",
            _("The RTU started on %(start)s: an inclusion cannot be dated before.")
            % {"start": _fmt(rules.RTU_START)},
        )
    age = inclusion_date.year - birth_year
    if age < MIN_AGE:
        add(
            "birth_year",
            _("The patient would be %(age)s at inclusion: the RTU is for adults (18 or over).")
            % {"age": age},
        )
    elif age > MAX_AGE:
        add(
            "birth_year",
            _("The patient would be %(age)s at inclusion: check the birth year (100 at most).")
            % {"age": age},
        )
    if alcohol_g_per_day < 0 or alcohol_g_per_day > MAX_ALCOHOL_G_PER_DAY:
        add(
            "alcohol_g_per_day",
            _("The consumption must be between 0 and 1000 g/day (100 standard drinks)."),
        )
    if craving < 0 or craving > 10:
        add("craving", _("The craving is scored from 0 (none) to 10 (maximal)."))
    if not informed_of_rtu:
        add(
            "informed_of_rtu",
            _("The patient must be informed of the RTU conditions before inclusion."),
        )
    if treatment_status == TreatmentStatus.PRETREATED:
        if pretreatment_dose_mg is None:
            add(
                "current_dose_mg",
                _("Give the daily dose the patient already takes (mg/day)."),
            )
        elif pretreatment_dose_mg <= 0 or pretreatment_dose_mg % 5:
            add(
                "current_dose_mg",
                _("A daily dose is a positive multiple of 5 mg/day."),
            )
        elif pretreatment_dose_mg > 300:
            add("current_dose_mg", _("A daily dose above 300 mg/day is never allowed."))
    if rules.RTU_START <= inclusion_date <= today:
        version = rules.protocol_in_force(inclusion_date).version
        if version == "2021":
            if indication != Indication.REDUCTION:
                add(
                    "indication",
                    _(
                        "Since 18/11/2021 (2021 version), baclofen is indicated only for the "
                        "reduction of consumption."
                    ),
                )
            threshold = HIGH_RISK_G_PER_DAY.get(sex)
            if threshold is not None and alcohol_g_per_day <= threshold:
                add(
                    "alcohol_g_per_day",
                    _(
                        "Since 18/11/2021 (2021 version), inclusion requires high-risk drinking: "
                        "more than %(threshold)s g/day for this patient (%(grams)s g/day given)."
                    )
                    % {"threshold": threshold, "grams": alcohol_g_per_day},
                )
    return errors


@transaction.atomic
def patient_register(
    *,
    prescriber,
    sex: str,
    birth_year: int,
    inclusion_date: date,
    indication: str,
    treatment_status: str,
    pretreatment_dose_mg: int | None,
    failed_treatments: Sequence[str],
    precautions: Sequence[str],
    alcohol_g_per_day: int,
    craving: int,
    abstinent: bool,
    psychosocial_care: bool,
    informed_of_rtu: bool,
    contraindications: Sequence[str] = (),
) -> Patient:
    """Include a patient under a fresh pseudonymous code; refuse with every reason otherwise."""
    errors = inclusion_errors(
        sex=sex,
        birth_year=birth_year,
        inclusion_date=inclusion_date,
        indication=indication,
        treatment_status=treatment_status,
        pretreatment_dose_mg=pretreatment_dose_mg,
        alcohol_g_per_day=alcohol_g_per_day,
        craving=craving,
        informed_of_rtu=informed_of_rtu,
        contraindications=contraindications,
        today=timezone.localdate(),
    )
    if errors:
        raise ValidationError(errors)
    patient = Patient(
        prescriber=prescriber,
        sex=sex,
        birth_year=birth_year,
        inclusion_date=inclusion_date,
        protocol_version=rules.protocol_in_force(inclusion_date).version,
        indication=indication,
        treatment_status=treatment_status,
        pretreatment_dose_mg=pretreatment_dose_mg,
        failed_treatments=sorted(set(failed_treatments)),
        precautions=sorted(set(precautions)),
        alcohol_g_per_day=alcohol_g_per_day,
        craving=craving,
        abstinent=abstinent,
        psychosocial_care=psychosocial_care,
        informed_of_rtu=informed_of_rtu,
        latest_dose_mg=pretreatment_dose_mg,
    )
    patient._change_reason = _("Inclusion")
    for _attempt in range(10):
        patient.code = generate_code()
        # Derived columns (kept by the prescriptions services) may be empty at inclusion.
        patient.full_clean(exclude=["latest_dose_mg", "last_visit_date"])
        try:
            with transaction.atomic():  # a savepoint: a code collision retries cleanly
                patient.save()
        except IntegrityError:
            if Patient.objects.filter(code=patient.code).exists():
                continue
            raise
        return patient
    raise RuntimeError("Could not draw a free patient code after 10 attempts.")


@transaction.atomic
def patients_transfer(*, from_prescriber, to_prescriber, by, reason: str) -> int:
    """Hand over every patient of a departing prescriber; each patient's history records it."""
    patients = list(Patient.objects.select_for_update().filter(prescriber=from_prescriber))
    now = timezone.now()
    for patient in patients:
        patient.prescriber = to_prescriber
        patient.updated_at = now
    change = _("Transferred from %(old)s to %(new)s: %(reason)s") % {
        "old": from_prescriber.email,
        "new": to_prescriber.email,
        "reason": reason,
    }
    bulk_update_with_history(
        patients,
        Patient,
        ["prescriber", "updated_at"],
        default_user=by,
        default_change_reason=change,
    )
    return len(patients)
