"""Role-based access helpers used by every view.

Anonymous users are sent to the login page; a role that may never see a page gets 403; a
prescriber asking for another prescriber's object gets 404 (see the per-resource selectors).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

PRESCRIBER = "prescriber"
AGENCY = "agency"
ADMIN = "admin"

View = Callable[..., HttpResponse]


def user_has_role(user: Any, *roles: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def role_required(*roles: str) -> Callable[[View], View]:
    """Allow the listed roles only: anonymous -> login, other roles -> 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


prescriber_required = role_required(PRESCRIBER)
agency_required = role_required(AGENCY, ADMIN)
admin_required = role_required(ADMIN)
