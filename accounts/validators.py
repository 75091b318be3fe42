from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def rpps_is_valid(value: str) -> bool:
    """An RPPS number is 11 digits whose last one is a Luhn check digit."""
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(value)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_rpps(value: str) -> None:
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        raise ValidationError(_("An RPPS number has exactly 11 digits."), code="rpps_format")
    if not rpps_is_valid(value):
        raise ValidationError(
            _("This RPPS number's check digit is wrong: please check the number."),
            code="rpps_check_digit",
        )


def rpps_with_check_digit(first_ten: str) -> str:
    """Complete ten digits into a valid RPPS number (used by demo data and tests)."""
    for check in "0123456789":
        if rpps_is_valid(first_ten + check):
            return first_ten + check
    raise ValueError(first_ten)
