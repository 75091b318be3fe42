from allauth.account.views import SignupView
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rtuportal.access import admin_required

from . import services
from .models import User

DUPLICATE_CODES = {"email_taken", "rpps_taken"}


class AtomicSignupView(SignupView):
    """allauth's sign-up, with the account and its profile written in one transaction.

    An address or RPPS number already registered is not revealed: when it is the only problem
    the visitor sees the same "registration received" page as a new sign-up, and the holder of
    the existing account is told by e-mail.
    """

    @transaction.atomic
    def form_valid(self, form):
        return super().form_valid(form)

    def form_invalid(self, form):
        errors = form.errors.as_data()
        duplicates = {
            field
            for field, field_errors in errors.items()
            if any(error.code in DUPLICATE_CODES for error in field_errors)
        }
        if not duplicates:
            return super().form_invalid(form)
        for field in duplicates:
            kept = [e for e in errors[field] if e.code not in DUPLICATE_CODES]
            if kept:
                form.errors[field] = form.error_class([m for e in kept for m in e.messages])
            else:
                del form.errors[field]
        if form.errors:
            return super().form_invalid(form)
        services.notify_duplicate_signup(
            email=form.data.get("email", ""), rpps=form.data.get("rpps", "")
        )
        return redirect("accounts:signup_received")


signup = AtomicSignupView.as_view()


def signup_received(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_received.html")


@admin_required
def pending_accounts(request: HttpRequest) -> HttpResponse:
    pending = (
        User.objects.filter(status=User.Status.PENDING)
        .select_related("prescriber_profile")
        .order_by("date_joined")
    )
    return render(request, "accounts/pending.html", {"pending": pending})


def _account_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    account = get_object_or_404(User, pk=pk)
    if action == "approve":
        services.account_approve(account=account, by=request.user)
        messages.success(
            request,
            _("%(email)s is approved and has been told by e-mail.") % {"email": account.email},
        )
    elif action == "reject":
        services.account_reject(account=account, by=request.user)
        messages.success(
            request,
            _("%(email)s is rejected and has been told by e-mail.") % {"email": account.email},
        )
    return redirect("accounts:pending")


@admin_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_action(request, pk, "approve")


@admin_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_action(request, pk, "reject")
