"""Reads with the permission built in (see rtuportal.access)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from rtuportal.access import ADMIN, AGENCY, PRESCRIBER

from .models import Patient


def get_patient_for_user(user, code: str, *, for_write: bool = False) -> Patient:
    """The patient `code` as `user` may see it.

    A prescriber gets only their own patients (404 otherwise: never reveal that a code exists);
    agency staff and admins may read every patient (pseudonymous) but never write clinical data.
    """
    if not user.is_authenticated:
        raise PermissionDenied
    if user.role == PRESCRIBER:
        try:
            return Patient.objects.get(code=code.upper(), prescriber=user)
        except Patient.DoesNotExist:
            raise Http404 from None
    if user.role in (AGENCY, ADMIN):
        if for_write:
            raise PermissionDenied
        try:
            return Patient.objects.get(code=code.upper())
        except Patient.DoesNotExist:
            raise Http404 from None
    raise PermissionDenied
