"""Backup and restore of the system of record (PostgreSQL), and what Kafka adds to them.

``laowu backup --out FILE`` is ``pg_dump --format=custom`` of the whole database: every table, the consumers'
stored offsets among them. ``laowu restore FILE`` loads it into an EMPTY database in one transaction (a restore
that fails leaves the database empty, not half-filled).

Why a dump taken at 02:00 loses nothing that Kafka still holds: the ledger's position in each partition is a row
(``consumer_offsets``) committed with the rows it produced. A restored database says "applied up to offset N as of
02:00", so the ledger consumer, started against it, re-applies every event accepted after the dump from the topics —
the log is the second copy. The derived events it emits again carry the same deterministic ids, which the statistics
worker recognises. Hence the retention of the source topics (``schemas.topics``) must outlast the interval between
two good backups; README says how long it is.

What a dump holds is what the database holds: ID numbers and phones sealed with ``LAOWU_ENCRYPTION_KEYS``, which are
NOT in the dump. Keep the keys apart from the dumps (a dump without its keys cannot reveal anyone; keys without a dump
hold nobody), and keep every key that sealed data still in a dump you may restore.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from laowu.stack.processes import child_env
from laowu.store.migrate import is_empty


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, without credentials."""


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore`` of the embedded server (its version matches the local server) or from PATH."""
    try:
        from laowu.stack.postgres import POSTGRES_BIN_PATH

        candidate = Path(POSTGRES_BIN_PATH) / name
        if candidate.is_file():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools of the server's major version")
    return found


def _split_password(dsn: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (argv is visible to every user of the machine) and the password as PGPASSWORD."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn, {}
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), {"PGPASSWORD": unquote(parts.password)}


def _run(argv: list[str], secret: dict[str, str]) -> None:
    done = subprocess.run(argv, env=child_env(extra=secret, inherit=True), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def backup(dsn: str, out: Path) -> Path:
    """Dump the whole database to ``out`` (custom format, compressed); returns the file."""
    url, secret = _split_password(dsn)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    _run([pg_tool("pg_dump"), "--format=custom", "--compress=6", "--no-owner", "--no-privileges",
          f"--file={partial}", f"--dbname={url}"], secret)
    partial.replace(out)  # a dump that was cut short never takes the name of a good one
    return out


async def restore(dsn: str, dump: Path) -> None:
    """Load ``dump`` into the empty database ``dsn``, all or nothing."""
    if not dump.is_file():
        raise BackupError(f"{dump}: no such file")
    if not await is_empty(dsn):
        raise BackupError("the target database is not empty: restore into a new, empty database")
    url, secret = _split_password(dsn)
    _run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={url}", str(dump)], secret)
