from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import account_create
from rtuportal.choices import Region, Role, Specialty


class Command(BaseCommand):
    help = "Create an approved account of any role (optionally with a TOTP second factor)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--rpps")
        parser.add_argument("--specialty", choices=[s.value for s in Specialty])
        parser.add_argument("--region", choices=[r.value for r in Region])
        parser.add_argument("--totp-secret", dest="totp_secret", help="Base32 TOTP secret")

    def handle(self, *args, **options) -> None:
        if options["role"] == Role.PRESCRIBER and not options["rpps"]:
            raise CommandError("--rpps is required for a prescriber.")
        try:
            user = account_create(
                email=options["email"],
                password=options["password"],
                role=options["role"],
                rpps=options["rpps"],
                specialty=options["specialty"] or "general_practice",
                region=options["region"] or "11",
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if options["totp_secret"]:
            from allauth.mfa.totp.internal.auth import TOTP

            secret = options["totp_secret"].replace(" ", "").upper()
            TOTP.activate(user, secret)
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} account {user.email}"))
