from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rtuportal.choices import Role


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up creates a pending prescriber; inactive accounts are told why they cannot log in."""

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        user = super().save_user(request, user, form, commit=False)
        user.role = Role.PRESCRIBER
        user.status = user.Status.PENDING
        user.is_active = False
        user.first_name = form.cleaned_data.get("first_name", "")
        user.last_name = form.cleaned_data.get("last_name", "")
        user._change_reason = "sign-up"
        if commit:
            user.save()
        return user

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """No second password prompt for the first TOTP enrolment right after a password login.

        Agency and admin accounts are sent to enrolment straight from the login; asking for the
        password again a few seconds later only adds a step. Any later change still asks.
        """
        import time

        from allauth.account.internal.flows.login import get_authentication_records

        request = getattr(self, "request", None)
        user = getattr(request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            if not user.has_totp():
                records = get_authentication_records(request, user)
                if records and time.time() - records[-1].get("at", 0) < 300:
                    return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def respond_user_inactive(self, request: HttpRequest, user) -> HttpResponse:
        if request.resolver_match and request.resolver_match.view_name == "accounts:signup":
            # A new sign-up: the same page as for an address already known (no enumeration).
            return redirect("accounts:signup_received")
        return render(request, "account/account_inactive.html", {"inactive_user": user})


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The login (e-mail) whose failures django-axes counts: allauth passes it as `email`."""
    credentials = credentials or {}
    login = credentials.get("email") or credentials.get("username")
    if not login and request is not None and request.method == "POST":
        login = request.POST.get("login")
    return login.strip().lower() if isinstance(login, str) else None
