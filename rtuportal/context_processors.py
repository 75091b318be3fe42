from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if user is not None and user.is_authenticated else None
    return {
        "portal_role": role,
        "is_prescriber": role == "prescriber",
        "is_agency": role in ("agency", "admin"),
        "is_admin": role == "admin",
    }
