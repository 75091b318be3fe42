"""The portal's authentication backend: allauth's, with the user read of every request
compiled once per process.

Every page reads the signed-in user by id (django.contrib.auth.get_user -> backend.get_user).
`User.objects.get(pk=...)` builds and compiles that query on each request; the compiled read
(rtuportal.queries.CompiledInstances) returns the same instance in 0.14-0.19 ms instead of
0.35-0.43 ms (2026-12-02 machine; with the plain session read of rtuportal.sessions, the
session and user of a request cost 0.56-0.86 ms instead of 1.22-1.36 ms). Everything else
(login by e-mail, the inactive-account rule) is allauth's and Django's ModelBackend's.

Sessions store the backend's path: sessions opened under allauth's path before this backend was
configured read as signed out once (they also end after 30 idle minutes anyway).
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from accounts.models import User
from rtuportal.queries import CompiledInstances

_user_by_id = CompiledInstances(lambda pk: User._default_manager.filter(pk=pk))


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id):
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return super().get_user(user_id)
        users = _user_by_id(user_id)
        if not users:
            return None
        user = users[0]
        return user if self.user_can_authenticate(user) else None
