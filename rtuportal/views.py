"""Portal-wide views: the role dashboard, health, and the error pages."""

import sys

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token

from .access import ADMIN, AGENCY, PRESCRIBER


def home(request: HttpRequest) -> HttpResponse:
    """The dashboard of each role; anonymous visitors go to the login page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("account_login")
    if user.role == PRESCRIBER:
        from patients import views as patient_views

        if hasattr(patient_views, "dashboard"):
            return patient_views.dashboard(request)
    context: dict = {}
    if user.role in (AGENCY, ADMIN):
        from accounts.models import User

        if user.role == ADMIN:
            context["pending_count"] = User.objects.filter(status=User.Status.PENDING).count()
    return render(request, "home.html", context)


def database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, exc.__class__.__name__
    return True, connection.vendor


def broker_status() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "in-process (eager)"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return False, exc.__class__.__name__
    return True, "redis"


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    db_ok, db_detail = database_status()
    broker_ok, broker_detail = broker_status()
    ok = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if ok else "unavailable",
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
        },
        status=200 if ok else 503,
    )


def _database_down() -> bool:
    exc = sys.exc_info()[1]
    return isinstance(exc, DatabaseError)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """500 handler: a database outage is shown as a clear 503 page, with a retry hint."""
    if _database_down():
        body = render_to_string("503.html", {"part": _("database")})
        return HttpResponse(body, status=503, headers={"Retry-After": "30"})
    return HttpResponse(render_to_string("500.html"), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
