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


class AtomicSignupView(SignupView):
    """allauth's sign-up, with the account and its profile written in one transaction."""

    @transaction.atomic
    def form_valid(self, form):
        return super().form_valid(form)


signup = AtomicSignupView.as_view()


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
