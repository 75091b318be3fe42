from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rtuportal.choices import PracticeSetting, Region, Role, Specialty

from .validators import validate_rpps


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(role=Role.ADMIN, status=User.Status.APPROVED, is_active=True)
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A portal account: e-mail login, one role, and an approval status."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DEACTIVATED = "deactivated", _("Deactivated")

    email = models.EmailField(_("e-mail address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PRESCRIBER)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    is_active = models.BooleanField(_("active"), default=False)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(is_active=True) | models.Q(status="approved"),
                name="user_active_only_when_approved",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_prescriber(self) -> bool:
        return self.role == Role.PRESCRIBER

    @property
    def is_agency(self) -> bool:
        return self.role in (Role.AGENCY, Role.ADMIN)

    def has_totp(self) -> bool:
        from allauth.mfa.models import Authenticator

        if not hasattr(self, "_has_totp"):
            self._has_totp = Authenticator.objects.filter(
                user=self, type=Authenticator.Type.TOTP
            ).exists()
        return self._has_totp


class PrescriberProfile(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="prescriber_profile", verbose_name=_("account")
    )
    rpps = models.CharField(
        _("RPPS number"), max_length=11, unique=True, validators=[validate_rpps]
    )
    specialty = models.CharField(_("specialty"), max_length=20, choices=Specialty.choices)
    practice_setting = models.CharField(
        _("practice setting"),
        max_length=20,
        choices=PracticeSetting.choices,
        default=PracticeSetting.PRIVATE_PRACTICE,
    )
    region = models.CharField(_("region"), max_length=2, choices=Region.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("prescriber profile")
        verbose_name_plural = _("prescriber profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(specialty__in=[s.value for s in Specialty]),
                name="profile_specialty_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(region__in=[r.value for r in Region]),
                name="profile_region_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.rpps})"
