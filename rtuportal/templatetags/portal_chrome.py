"""`{% chrome "nav" %}`: the parts of the page frame that hardly vary, rendered once per process.

The head links, the navigation bar and the footer of base.html (templates/chrome/) depend on
the language, the role and the URL configuration; only three values in them change from one
request to the next: the user's email, the page's path (the language switch's `next`) and the
CSRF token. Each part is rendered once per combination with markers in place of those three
(about 0.7 ms of template work on every page, with its 6 `{% url %}`, 6 `{% static %}` and 15
`{% translate %}`), then filled in per request with the values escaped as the template would
escape them. The markers are replaced in one pass, so a marker inside a value is left as text.
"""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.template import Library
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = Library()

PARTS = ("head", "nav", "footer")
_MARKER = re.compile(r"@@chrome:(email|next|csrf)@@")


def _marker(name: str) -> str:
    return f"@@chrome:{name}@@"


def _render(part, language, urlconf, prefix, authenticated, roles, has_csrf) -> str:
    # `language` is the active language and `urlconf`/`prefix` what reverse() uses: they are in
    # the key only so that a change of either renders the part again.
    is_prescriber, is_agency, is_admin = roles
    context = {
        "LANGUAGE_CODE": language,
        "authenticated": authenticated,
        "is_prescriber": is_prescriber,
        "is_agency": is_agency,
        "is_admin": is_admin,
        "email": _marker("email"),
        "next_path": _marker("next"),
    }
    if has_csrf:
        context["csrf_token"] = _marker("csrf")
    return render_to_string(f"chrome/{part}.html", context)


_cached = functools.lru_cache(maxsize=256)(_render)


@register.simple_tag(takes_context=True)
def chrome(context, part: str) -> SafeString:
    if part not in PARTS:
        raise ValueError(f"unknown part of the page frame: {part!r}")
    user = context.get("user")
    authenticated = bool(user is not None and user.is_authenticated)
    token = context.get("csrf_token")
    token = str(token) if token else ""
    has_csrf = bool(token) and token != "NOTPROVIDED"  # as {% csrf_token %}
    roles = (
        bool(context.get("is_prescriber")),
        bool(context.get("is_agency")),
        bool(context.get("is_admin")),
    )
    render = _render if settings.DEBUG else _cached  # templates edited while runserver runs
    skeleton = render(
        part,
        get_language(),
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
        authenticated,
        roles,
        has_csrf,
    )
    request = context.get("request")
    values = {
        "email": conditional_escape(user.email) if authenticated else "",
        "next": conditional_escape(request.get_full_path()) if request is not None else "",
        "csrf": conditional_escape(token) if has_csrf else "",
    }
    # Every value is escaped above; the skeleton is a rendered template.
    return mark_safe(_MARKER.sub(lambda m: values[m[1]], skeleton))  # noqa: S308
