"""Backups of the club's database and restores from them: SQLite through its online backup API, PostgreSQL through
pg_dump's custom format and pg_restore; the nightly backups' files, of which the last N are kept.

A SQLite backup is taken in one step of the backup API, under one read transaction: the copy is the database as it
was at one moment, WAL included, while the bot goes on writing. pg_dump reads under one snapshot, so its copy is
consistent too; DATABASE_URL's query options (`?ssl=require`) reach pg_dump and pg_restore in libpq's terms
(`storage.libpq`). A restore replaces the configured database's data with the backup's (SQLite: the backup API
writes the pages into it, as one transaction; PostgreSQL: the tables the backup lacks are dropped, then pg_restore
--clean in one transaction), then migrates it to head.
It refuses while a bot instance holds a lease in `job_runs` (a running bot's broadcast sender always does).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import libpq
from storage.database import SQLITE_BUSY_TIMEOUT_MS, create_engine, first_line
from storage.migrate import upgrade
from storage.models import JobRun

SQLITE_MAGIC = b"SQLite format 3\x00"
DUMP_MAGIC = b"PGDMP"  # the first bytes of pg_dump's custom format
SUFFIXES = {"sqlite": ".db", "postgresql": ".dump"}
_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class NightlyBackups:
    """The nightly backup: the database, the folder its files go to, and how many are kept (0: no nightly backup)."""

    database_url: str
    folder: Path
    keep: int


def backup_path(folder: Path, prefix: str, database_url: str, now: datetime) -> Path:
    """A backup file in `folder` named by its prefix and UTC time, so names sort as times do."""
    suffix = SUFFIXES[make_url(database_url).get_backend_name()]
    return folder / f"{prefix}-{now.astimezone(UTC):%Y%m%d-%H%M%S}{suffix}"


def back_up(database_url: str, path: Path) -> Path:
    """Write a consistent copy of the database to `path` (its folder is made); the file is whole or absent."""
    url = make_url(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        if url.get_backend_name() == "sqlite":
            _copy_sqlite(_sqlite_file(url), partial)
        else:
            _run(["pg_dump", "--format=custom", f"--file={partial}", *_libpq(url)], url, "back up")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def prune(folder: Path, prefix: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups named `prefix-…` in `folder`; the deleted files."""
    backups = sorted(path for path in folder.glob(f"{prefix}-*") if path.suffix in SUFFIXES.values())
    old = backups[: max(len(backups) - keep, 0)]
    for path in old:
        path.unlink()
    return old


async def restore(database_url: str, path: Path) -> None:
    """Replace the database's data with the backup at `path`, then migrate it to head; refused while a bot runs."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    kind = _kind_of(path)
    if kind != backend:
        raise BackupError(f"{path} is a {_NAMES[kind]} backup, but DATABASE_URL is a {_NAMES[backend]} database.")
    await _refuse_while_running(database_url)
    if backend == "sqlite":
        target = _sqlite_file(url, must_exist=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_copy_sqlite, path, target)
    engine = create_engine(database_url)
    try:
        if backend == "postgresql":
            await _drop_tables_not_in(engine, await asyncio.to_thread(_dumped_tables, path, url))
            options = ["--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner", "--no-acl"]
            await asyncio.to_thread(_run, ["pg_restore", *options, *_libpq(url), str(path)], url, "restore")
        await upgrade(engine)
    finally:
        await engine.dispose()


def _dumped_tables(path: Path, url: URL) -> set[str]:
    """The tables of the public schema in the pg_dump archive at `path` (from its table of contents)."""
    listing = _run(["pg_restore", "--list", str(path)], url, "restore")
    entries = (line.split() for line in listing.splitlines() if not line.startswith(";"))
    return {entry[5] for entry in entries if entry[3:5] == ["TABLE", "public"]}


async def _drop_tables_not_in(engine: AsyncEngine, kept: set[str]) -> None:
    """Drop, in one transaction, the tables the backup does not have (a newer release's): pg_restore --clean drops
    only the backup's own, cannot drop one another table points at, and the migrations would make them again."""
    async with engine.begin() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in set(tables) - kept:
            quoted = connection.dialect.identifier_preparer.quote(table)
            await connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quoted} CASCADE")


def _kind_of(path: Path) -> str:
    """The backend the backup at `path` is of ("sqlite" or "postgresql"), by its first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"No backup at {path}: check the path.") from None
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite database nor a pg_dump custom-format archive: not a backup.")


async def _refuse_while_running(database_url: str) -> None:
    """Raise BackupError while an instance holds a lease (a running bot holds the sender's) or the database cannot
    be reached; a database without the table yet (a new one) is not in use."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    held = (JobRun.holder.is_not(None)) & JobRun.finished_at.is_(None) & (JobRun.lease_until > now)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: sync.dialect.has_table(sync, JobRun.__tablename__))
            until = (await connection.execute(select(JobRun.lease_until).where(held))).first() if tables else None
    except (OSError, SQLAlchemyError) as error:
        raise BackupError(
            f"Cannot open the database at {_where(make_url(database_url))}: {first_line(error)}."
        ) from None
    finally:
        await engine.dispose()
    if until is not None:
        raise BackupError(
            f"The bot is running (it holds a lease until {until[0]:%H:%M:%S} UTC): stop every instance, then restore."
        )


def _sqlite_file(url: URL, *, must_exist: bool = True) -> Path:
    """The SQLite database's file; BackupError if it must exist and does not."""
    path = Path(url.database or "")
    if must_exist and not path.is_file():
        raise BackupError(f"No database at {path}: check DATABASE_URL.")
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy the SQLite database `source` into `target` in one step of the online backup API (one transaction on
    each side), after checking the source is a sound SQLite database."""
    try:
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as reading:
            if reading.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{source} is damaged (PRAGMA quick_check fails): use another backup.")
            with closing(sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as writing:
                reading.backup(writing)
    except sqlite3.Error as error:
        raise BackupError(f"Cannot copy {source} to {target}: {error}.") from None


def _libpq(url: URL) -> list[str]:
    """pg_dump's and pg_restore's connection options for the URL, its query options included (`storage.libpq`; the
    password goes in the environment); BackupError for an option libpq has no counterpart for."""
    try:
        return [f"--dbname={libpq.conninfo(url)}", "--no-password"]
    except libpq.UnknownOption as error:
        raise BackupError(str(error)) from None


def _run(command: list[str], url: URL, doing: str) -> str:
    """Run a PostgreSQL client tool; its output, or a one-line BackupError if it is missing or fails."""
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed: install the PostgreSQL client tools of the server's version."
        )
    environment = os.environ | ({"PGPASSWORD": url.password} if url.password else {})
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0].removeprefix(f"{command[0]}: ") if lines else f"exit status {done.returncode}"
        raise BackupError(f"Cannot {doing} the database at {_where(url)}: {reason}")
    return done.stdout


def _where(url: URL) -> str:
    """The database's URL without its password."""
    return url.render_as_string(hide_password=True)
