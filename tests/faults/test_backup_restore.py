"""`make backup` / `make restore` (ops/backup.sh, ops/restore.sh) round-trip a seeded database
identically: same row count in every table, same checksum of the visits table. PostgreSQL only."""

import os
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import require_service

from .conftest import ROOT, postgres_in_use

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def database_url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def fingerprint(url: str) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        visits_md5 = conn.execute(
            "SELECT md5(string_agg(v::text, '|' ORDER BY v.id)) FROM prescriptions_visit v"
        ).fetchone()[0]
        sequences = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
            "ORDER BY 1"
        ).fetchall()
    return {"counts": counts, "visits_md5": visits_md5, "sequences": sequences}


def make(target: str, *, url: str, backup_file: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", target, f"BACKUP_FILE={backup_file}"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_backup_and_restore_round_trip(tmp_path):
    require_service("PostgreSQL (DATABASE_URL)", postgres_in_use())
    import psycopg

    call_command("seed_demo", "--patients", "60", "--seed", "7")
    source_url = database_url(connection.settings_dict["NAME"])
    source = fingerprint(source_url)
    assert source["counts"]["prescriptions_visit"] > 60 and source["visits_md5"]

    target_name = f"{connection.settings_dict['NAME']}_restored"
    admin_url = database_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target_name}"')
        conn.execute(f'CREATE DATABASE "{target_name}"')
    try:
        dump = tmp_path / "rtuportal.dump"
        backup = make("backup", url=source_url, backup_file=str(dump))
        assert backup.returncode == 0, backup.stdout + backup.stderr
        assert dump.stat().st_size > 10_000
        assert not (tmp_path / "rtuportal.dump.partial").exists()

        target_url = database_url(target_name)
        restore = make("restore", url=target_url, backup_file=str(dump))
        assert restore.returncode == 0, restore.stdout + restore.stderr
        assert fingerprint(target_url) == source

        # Restoring again over the restored database replaces it (--clean): still identical.
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute("DELETE FROM prescriptions_dosestep")
        again = make("restore", url=target_url, backup_file=str(dump))
        assert again.returncode == 0, again.stdout + again.stderr
        assert fingerprint(target_url) == source
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')


def test_restore_of_a_damaged_dump_changes_nothing(tmp_path):
    """A truncated file is refused and the database keeps its data (one transaction)."""
    require_service("PostgreSQL (DATABASE_URL)", postgres_in_use())
    call_command("seed_demo", "--patients", "5", "--seed", "3")
    url = database_url(connection.settings_dict["NAME"])
    before = fingerprint(url)
    dump = tmp_path / "full.dump"
    assert make("backup", url=url, backup_file=str(dump)).returncode == 0
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    result = make("restore", url=url, backup_file=str(damaged))
    assert result.returncode != 0
    assert fingerprint(url) == before
