"""Backup and restore: config/scripts/backup.sh dumps the test database (pg_dump custom format) with
the stored files, restore.sh restores both into a fresh database and directory, and every ledger
entry and letter is found intact: counts, sums and checksums of every row and every PDF."""
import hashlib
import subprocess
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from casework import services
from casework.constants import EntryKind
from casework.letters import services as letters
from casework.models import LedgerEntry, Letter

from .factories import ClientFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "config" / "scripts"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ON = date(2026, 11, 25)

LEDGER_FINGERPRINT = """
    SELECT count(*), coalesce(sum(amount), 0),
           md5(coalesce(string_agg(concat_ws('|', id, account_id, kind, amount, effective_date, posted_at, posted_by_id,
                                             reference, description, reverses_id, reason), ',' ORDER BY id), ''))
    FROM casework_ledgerentry
"""
LETTER_FINGERPRINT = """
    SELECT count(*), md5(coalesce(string_agg(concat_ws('|', id, client_id, letter_type, template_id, recipient_name,
                                                       recipient_address::text, postcode, pages, file, sha256, created_at),
                                             ',' ORDER BY id), ''))
    FROM casework_letter
"""


@pytest.fixture
def media(settings, tmp_path):
    location = tmp_path / "media"
    location.mkdir()
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}}}
    return location


def _url(name: str) -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    assert host in LOOPBACK, "the backup test runs against loopback only"
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{name}"


def _fingerprints(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(LEDGER_FINGERPRINT).fetchone(), conn.execute(LETTER_FINGERPRINT).fetchone()


def _run(*args, timeout=300) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    print(result.stdout.strip())  # the scripts' own timings, shown with pytest -s
    return result


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_a_fresh_database_with_every_ledger_entry_and_letter_intact(media, tmp_path):
    officer = UserFactory(username="backup-officer")
    clients = [ClientFactory() for _ in range(5)]
    for n, client in enumerate(clients):
        account = services.account_for_client(client)
        for week in range(10):
            services.ledger_post(account=account, kind=EntryKind.CHARGE, amount=Decimal("99.85") + n,
                                 effective_date=ON - timedelta(weeks=week), reference=f"B{n}-{week}",
                                 description="Weekly charge", actor=officer)
        payment = services.ledger_post(account=account, kind=EntryKind.PAYMENT, amount=Decimal("-250.01"),
                                       effective_date=ON, reference=f"P{n}", description="Payment", actor=officer)
        if n == 0:
            services.ledger_reverse(entry=payment, actor=officer, reason="Bounced")
        letters.letter_produce(client=client, letter_type="account_statement", on=ON)
    expected_ledger, expected_letters = _fingerprints(_url(connection.settings_dict["NAME"]))
    assert expected_ledger[0] == 56 and expected_ledger[1] == Decimal("4092.46")
    assert expected_letters[0] == 5

    dump = tmp_path / "backup" / "careledger.dump"
    target = f"{connection.settings_dict['NAME']}_restored"
    restored_media = tmp_path / "restored-media"
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}"')
    try:
        started = time.monotonic()
        _run(SCRIPTS / "backup.sh", _url(connection.settings_dict["NAME"]), dump, media)
        _run(SCRIPTS / "restore.sh", dump, _url(target), restored_media)
        assert time.monotonic() - started < 300

        assert _fingerprints(_url(target)) == (expected_ledger, expected_letters)
        # Every letter's PDF came back from the file backup, byte for byte.
        for letter in Letter.objects.all():
            pdf = (restored_media / letter.file.name).read_bytes()
            assert hashlib.sha256(pdf).hexdigest() == letter.sha256
        # The restored database still refuses changes to ledger history.
        with psycopg.connect(_url(target)) as conn, pytest.raises(psycopg.errors.IntegrityConstraintViolation):
            conn.execute("UPDATE casework_ledgerentry SET amount = amount + 1")
        # A second restore into the same (now existing) database is refused, leaving it as it was.
        refused = subprocess.run(["bash", SCRIPTS / "restore.sh", dump, _url(target)], capture_output=True,
                                 text=True, timeout=60)
        assert refused.returncode == 1 and "already exists" in refused.stderr
        assert _fingerprints(_url(target))[0] == expected_ledger
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target}"')
    assert LedgerEntry.objects.count() == 56


def test_a_corrupted_dump_is_refused_before_anything_is_restored(tmp_path):
    dump = tmp_path / "careledger.dump"
    dump.write_bytes(b"PGDMP not really")
    (tmp_path / "careledger.dump.sha256").write_text(f"{'0' * 64}  careledger.dump\n")
    result = subprocess.run(["bash", SCRIPTS / "restore.sh", dump, "postgres://postgres@127.0.0.1:5432/never_made"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "does not match its SHA-256" in result.stderr
