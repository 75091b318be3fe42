"""Reads with the permission built in (see rtuportal.access)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from rtuportal.access import ADMIN, AGENCY, PRESCRIBER
from rtuportal.queries import PLACEHOLDER, TEXT_PLACEHOLDER, CompiledInstances

from .models import Patient

# A prescriber's own patient by code: read on every patient page, visit form and save, so
# compiled once per process (rtuportal.queries); the same instance as
# Patient.objects.get(code=code, prescriber=user).
_own_patient = CompiledInstances(
    lambda code, prescriber_id: Patient.objects.filter(code=code, prescriber_id=prescriber_id),
    placeholders=(TEXT_PLACEHOLDER, PLACEHOLDER),
)


def get_patient_for_user(user, code: str, *, for_write: bool = False) -> Patient:
    """The patient `code` as `user` may see it.

    A prescriber gets only their own patients (404 otherwise: never reveal that a code exists);
    agency staff and admins may read every patient (pseudonymous) but never write clinical data.
    """
    if not user.is_authenticated:
        raise PermissionDenied
    if user.role == PRESCRIBER:
        found = _own_patient(code.upper(), user.pk)  # at most one: the code is unique
        if not found:
            raise Http404
        return found[0]
    if user.role in (AGENCY, ADMIN):
        if for_write:
            raise PermissionDenied
        try:
            return Patient.objects.get(code=code.upper())
        except Patient.DoesNotExist:
            raise Http404 from None
    raise PermissionDenied


def patients_for_user(user):
    """The patients `user` may list: a prescriber's own; every patient for agency and admin."""
    if not user.is_authenticated:
        raise PermissionDenied
    if user.role == PRESCRIBER:
        return Patient.objects.filter(prescriber=user)
    if user.role in (AGENCY, ADMIN):
        return Patient.objects.all()
    raise PermissionDenied


def filter_patients(queryset, *, today, q: str = "", status: str = "", sort: str = ""):
    """Search by code, filter by status, sort; annotates `last_contact` (last visit, inclusion)."""
    from datetime import timedelta

    from django.db.models import DateField, ExpressionWrapper, F
    from django.db.models.functions import Coalesce

    from .models import VISIT_INTERVAL_DAYS

    queryset = queryset.annotate(
        last_contact=ExpressionWrapper(
            Coalesce(F("last_visit_date"), F("inclusion_date")), output_field=DateField()
        )
    )
    if q:
        queryset = queryset.filter(code__icontains=q.strip().upper())
    overdue_before = today - timedelta(days=VISIT_INTERVAL_DAYS)
    if status == "stopped":
        queryset = queryset.filter(stopped_on__isnull=False)
    elif status == "titration":
        queryset = queryset.filter(stopped_on__isnull=True, in_titration=True)
    elif status == "stable":
        queryset = queryset.filter(stopped_on__isnull=True, in_titration=False)
    elif status == "overdue":
        queryset = queryset.filter(stopped_on__isnull=True, last_contact__lt=overdue_before)
    orderings = {
        "next_due": [F("stopped_on").asc(nulls_first=True), "last_contact", "code"],
        "-inclusion_date": ["-inclusion_date", "code"],
        "inclusion_date": ["inclusion_date", "code"],
        "code": ["code"],
        "-latest_dose_mg": [F("latest_dose_mg").desc(nulls_last=True), "code"],
    }
    return queryset.order_by(*orderings.get(sort or "next_due", orderings["next_due"]))
