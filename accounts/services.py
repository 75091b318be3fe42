"""Account writes: sign-up, approval, rejection, deactivation, second-factor reset, creation."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from rtuportal.choices import Role

from .models import PrescriberProfile, User


def _notify(user: User, template: str, subject: str) -> None:
    """E-mail the account holder after commit, in French (the portal's language)."""

    def send() -> None:
        with translation.override("fr"):
            body = render_to_string(template, {"user": user, "site_url": settings.RTU_SITE_URL})
            send_mail(str(subject), body, None, [user.email], fail_silently=False)

    transaction.on_commit(send)


def _set_status(*, account: User, status: str, by: User | None, reason: str) -> User:
    account.status = status
    account.is_active = status == User.Status.APPROVED
    account.status_changed_at = timezone.now()
    account._change_reason = reason
    if by is not None:
        account._history_user = by
    account.full_clean(exclude=["password"])
    account.save()
    return account


@transaction.atomic
def account_create(
    *,
    email: str,
    password: str | None,
    role: str,
    rpps: str | None = None,
    specialty: str | None = None,
    practice_setting: str | None = None,
    region: str | None = None,
    approved: bool = True,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create an account of any role (management command, import, tests)."""
    user = User(
        email=User.objects.normalize_email(email).lower(),
        role=role,
        status=User.Status.APPROVED if approved else User.Status.PENDING,
        is_active=approved,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
        first_name=first_name,
        last_name=last_name,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user._change_reason = "account created"
    user.save()
    if role == Role.PRESCRIBER:
        profile = PrescriberProfile(
            user=user,
            rpps=rpps or "",
            specialty=specialty or "",
            practice_setting=practice_setting or "private_practice",
            region=region or "",
        )
        profile.full_clean()
        profile.save()
    return user


@transaction.atomic
def account_approve(*, account: User, by: User | None) -> User:
    _set_status(account=account, status=User.Status.APPROVED, by=by, reason="approved")
    _notify(account, "accounts/email/approved.txt", translation.gettext_lazy("Your RTU account"))
    return account


@transaction.atomic
def account_reject(*, account: User, by: User | None) -> User:
    _set_status(account=account, status=User.Status.REJECTED, by=by, reason="rejected")
    _notify(account, "accounts/email/rejected.txt", translation.gettext_lazy("Your RTU account"))
    return account


@transaction.atomic
def account_deactivate(*, account: User, by: User | None) -> User:
    _set_status(account=account, status=User.Status.DEACTIVATED, by=by, reason="deactivated")
    return account


@transaction.atomic
def account_reset_second_factor(*, account: User, by: User | None) -> int:
    """Remove the account's TOTP device and recovery codes; it must enrol again at next login."""
    from allauth.mfa.models import Authenticator

    deleted, _ = Authenticator.objects.filter(user=account).delete()
    account._change_reason = "second factor reset"
    if by is not None:
        account._history_user = by
    account.save()
    return deleted


def notify_admins_of_signup(account: User) -> None:
    admins = list(
        User.objects.filter(role=Role.ADMIN, is_active=True).values_list("email", flat=True)
    )
    if not admins:
        return

    def send() -> None:
        with translation.override("fr"):
            body = render_to_string(
                "accounts/email/new_signup.txt",
                {"user": account, "site_url": settings.RTU_SITE_URL},
            )
            send_mail(translation.gettext("New prescriber account to approve"), body, None, admins)

    transaction.on_commit(send)


def notify_duplicate_signup(*, email: str, rpps: str) -> None:
    """Someone signed up with an address or RPPS number already registered: tell the holders.

    The sign-up page itself answers as for a new registration, so it never reveals who is
    enrolled in the RTU.
    """
    holders = set(
        User.objects.filter(email__iexact=email.strip()).values_list("email", flat=True)
    ) | set(
        PrescriberProfile.objects.filter(rpps=rpps.strip()).values_list("user__email", flat=True)
    )
    for address in holders:

        def send(address: str = address) -> None:
            with translation.override("fr"):
                body = render_to_string(
                    "accounts/email/duplicate_signup.txt", {"site_url": settings.RTU_SITE_URL}
                )
                send_mail(translation.gettext("Your RTU account"), body, None, [address])

        transaction.on_commit(send)
