"""SESSION_ENGINE: Django's database sessions, read with one plain SQL statement.

Every request reads its session (`SessionStore.load`). Django's db backend does it with
`Session.objects.get(...)`, building and compiling a queryset each time; this store sends the
same SELECT directly, prepared on the connection (the same table, rows and rules: an expired
or unknown key reads as an empty session and the key is dropped). Writing, expiry,
`clearsessions`: Django's own.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from rtuportal.queries import preparing_cursor


class SessionStore(DatabaseSessionStore):
    def load(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        with preparing_cursor(connection) as cursor:  # prepared once per connection
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # noqa: S608
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
