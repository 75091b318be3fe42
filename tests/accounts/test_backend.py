"""accounts.backends.AuthenticationBackend: the user of every request read with a compiled
query gives the same user as Django's own read, refuses the same accounts, and is the backend a
real login goes through."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import AuthenticationBackend
from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in User._meta.concrete_fields]


def test_the_compiled_read_gives_the_orms_user(alice, bob):
    for user in (alice, bob):
        mine = AuthenticationBackend().get_user(user.pk)
        orm = User.objects.get(pk=user.pk)
        assert type(mine) is User and mine._state.adding is False
        assert [getattr(mine, f) for f in FIELDS] == [getattr(orm, f) for f in FIELDS]


def test_unknown_and_inactive_accounts_get_no_user(alice):
    backend = AuthenticationBackend()
    assert backend.get_user(alice.pk + 1000) is None
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert backend.get_user(alice.pk) is None
    assert backend.get_user(str(alice.pk)) is None  # the uncompiled path, same rule


def test_a_page_reads_the_user_in_one_query_through_this_backend(client, alice):
    response = client.post(
        reverse("account_login"), {"login": alice.email, "password": PASSWORD}, follow=False
    )
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.AuthenticationBackend"
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("patients:list")).status_code == 200
    user_reads = [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(user_reads) == 1 and "WHERE" in user_reads[0]
