"""rtuportal.sessions: database sessions read with one plain SELECT give what Django's own
database store gives: the data of a live session, an empty session (and no key) for an expired
or unknown one."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from rtuportal.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_portal_uses_it():
    assert settings.SESSION_ENGINE == "rtuportal.sessions"


def test_a_live_session_reads_as_with_djangos_store():
    saved = SessionStore()
    data = {"_auth_user_id": "7", "_touched": 1764700000, "text": "é <b>"}
    saved.update(data)
    saved.save()
    mine, django = SessionStore(saved.session_key), DjangoStore(saved.session_key)
    assert (
        mine.load()
        == django.load()
        == {"_auth_user_id": "7", "_touched": 1764700000, "text": "é <b>"}
    )
    assert mine.session_key == saved.session_key


@pytest.mark.parametrize("expired", [True, False])
def test_an_expired_or_unknown_session_is_empty_and_loses_its_key(expired):
    saved = SessionStore()
    saved["x"] = 1
    saved.save()
    key = saved.session_key
    if expired:
        Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    else:
        Session.objects.filter(pk=key).delete()
    for store in (SessionStore(key), DjangoStore(key)):
        assert store.load() == {}
        assert store.session_key is None
