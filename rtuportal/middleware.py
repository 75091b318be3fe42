"""Portal-wide middleware: language choice and the mandatory second factor."""

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation

Handler = Callable[[HttpRequest], HttpResponse]


class LanguageMiddleware:
    """French unless the user chose another language with the switch (cookie).

    The portal's users are French prescribers: the browser's Accept-Language is not followed, so a
    shared practice computer in English still shows the portal in French until someone switches.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, settings.LANGUAGE_CODE)
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


SECOND_FACTOR_FREE_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/login/",
    "/accounts/inactive/",
    "/i18n/",
    "/static/",
    "/health/",
)


class SecondFactorRequiredMiddleware:
    """Roles listed in RTU_REQUIRE_2FA cannot reach any page before enrolling a TOTP device."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "role", None) in settings.RTU_REQUIRE_2FA
            and not request.path.startswith(SECOND_FACTOR_FREE_PREFIXES)
            and not user.has_totp()
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class IdleSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE without a request, without a write per request.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST) costs an UPDATE on each
    page. Instead the session is touched at most once a minute, which renews its expiry: a
    session ends between 29 and 30 minutes after the last request.
    """

    TOUCH_EVERY_SECONDS = 60

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get("_touched", 0) >= self.TOUCH_EVERY_SECONDS:
                session["_touched"] = now
        return response
