"""Backups and restores: a consistent copy of a live SQLite database (the online backup API) or of PostgreSQL
(pg_dump), restored into the configured database; the nightly backup keeping the last N; clear one-line errors."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main
from bot.i18n import create_i18n
from loyalty.rules import Rules
from scheduler import runs
from scheduler.jobs import Jobs, run_due
from storage.backup import BackupError, NightlyBackups, back_up, restore
from storage.database import create_engine, session_factory
from storage.migrate import alembic_head, downgrade, upgrade
from storage.models import LedgerEntry, Member
from tests.commands import one_line
from tests.databases import own_postgres, sqlite_copy
from tests.factories import NOW, add_members, member_row
from tests.live import SETTING_NAMES

TEHRAN_NIGHT = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # 02:30 in Tehran: the backup's hour has come, no other job's


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of this test's own: a SQLite file, or a PostgreSQL database made and dropped here."""
    if request.param == "sqlite":
        yield sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
        return
    with own_postgres() as url:
        yield url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return sqlite_copy(sqlite_template, tmp_path)


async def credit(engine: AsyncEngine, number: int, points: int = 10) -> None:
    """One transaction: a member and the ledger entry that gives them their balance."""
    async with engine.begin() as connection:
        await connection.execute(insert(Member).values(member_row(number, balance=points)))
        await connection.execute(
            insert(LedgerEntry).values(
                member_id=number,
                kind="adjust",
                points=points,
                reason="test",
                idempotency_key=f"credit:{number}",
                created_at=NOW,
            )
        )


def rows_of(path: Path) -> tuple[list[tuple[int, int]], int]:
    """The members (id, balance) of a SQLite file and its ledger's sum, after checking the file is sound."""
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        members = connection.execute("SELECT id, balance FROM members ORDER BY id").fetchall()
        points = connection.execute("SELECT COALESCE(SUM(points), 0) FROM ledger_entries").fetchone()[0]
    connection.close()
    return members, points


async def members_of(url: str) -> list[tuple[int, int]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(select(Member.id, Member.balance).order_by("id"))]
    finally:
        await engine.dispose()


async def version_of(url: str) -> str:
    """The migration the database is at."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return str((await connection.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        await engine.dispose()


async def test_a_backup_taken_while_another_connection_writes_is_consistent(sqlite_url: str, tmp_path: Path) -> None:
    engine = create_engine(sqlite_url)
    for number in range(1, 201):
        await credit(engine, number)
    stop = asyncio.Event()

    async def write() -> int:
        number = 1000
        while not stop.is_set():
            number += 1
            await credit(engine, number)
        return number

    writer = asyncio.create_task(write())
    copies = []
    for attempt in range(5):
        copies.append(await asyncio.to_thread(back_up, sqlite_url, tmp_path / f"live-{attempt}.db"))
        await asyncio.sleep(0.01)
    stop.set()
    written = await writer
    sizes = set()
    for copy in copies:
        members, points = rows_of(copy)
        assert len(members) >= 200 and points == 10 * len(members)  # each transaction whole, or not at all
        sizes.add(len(members))
    assert written > 1000 and len(sizes) > 1, "the writer never wrote while the backups ran"
    quiet = await asyncio.to_thread(back_up, sqlite_url, tmp_path / "quiet.db")
    assert rows_of(quiet)[0] == await members_of(sqlite_url)  # rows still in the WAL file are in the copy too
    await engine.dispose()


async def test_restore_brings_the_rows_back(own_database: str, tmp_path: Path) -> None:
    engine = create_engine(own_database)
    async with session_factory(engine)() as session:
        await add_members(session, [member_row(number, balance=number * 10) for number in range(1, 4)])
    saved = await asyncio.to_thread(back_up, own_database, tmp_path / "saved")
    await credit(engine, 4)
    async with engine.begin() as connection:
        await connection.execute(update(Member).where(Member.id == 1).values(balance=999))
    await engine.dispose()

    await restore(own_database, saved)

    assert await members_of(own_database) == [(1, 10), (2, 20), (3, 30)]
    assert await version_of(own_database) == alembic_head()


async def test_a_backup_from_an_older_release_is_migrated_to_head_after_the_restore(
    own_database: str, tmp_path: Path
) -> None:
    engine = create_engine(own_database)
    async with session_factory(engine)() as session:
        await add_members(session, [member_row(1, balance=10)])
    await downgrade(engine, "-1")
    older = await asyncio.to_thread(back_up, own_database, tmp_path / "older")
    await upgrade(engine)  # the new release is installed
    await engine.dispose()

    await restore(own_database, older)

    assert await members_of(own_database) == [(1, 10)]
    assert await version_of(own_database) == alembic_head()


async def test_tables_the_backup_does_not_have_are_dropped_even_those_pointing_at_its_rows(
    own_database: str, tmp_path: Path
) -> None:
    engine = create_engine(own_database)
    async with session_factory(engine)() as session:
        await add_members(session, [member_row(1, balance=10)])
    saved = await asyncio.to_thread(back_up, own_database, tmp_path / "saved")
    async with engine.begin() as connection:  # a newer release's table, pointing at a member
        await connection.exec_driver_sql("CREATE TABLE newer (id INTEGER PRIMARY KEY REFERENCES members (id))")
        await connection.exec_driver_sql("INSERT INTO newer (id) VALUES (1)")
    await engine.dispose()

    await restore(own_database, saved)

    engine = create_engine(own_database)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    await engine.dispose()
    assert "newer" not in tables and "members" in tables
    assert await members_of(own_database) == [(1, 10)]


async def test_restore_refuses_while_the_bot_holds_its_lease(sqlite_url: str, tmp_path: Path) -> None:
    saved = await asyncio.to_thread(back_up, sqlite_url, tmp_path / "saved.db")
    engine = create_engine(sqlite_url)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session:
        assert await runs.hold(session, runs.SENDER, "running-bot", now, now + timedelta(minutes=1))
    await engine.dispose()
    with pytest.raises(BackupError, match="running"):
        await restore(sqlite_url, saved)


async def test_a_file_of_the_wrong_kind_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a backup", encoding="utf-8")
    with pytest.raises(BackupError, match="neither a SQLite database nor a pg_dump"):
        await restore(sqlite_url, notes)
    dump = tmp_path / "loyalty.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    with pytest.raises(BackupError, match="PostgreSQL backup, but DATABASE_URL is a SQLite"):
        await restore(sqlite_url, dump)
    with pytest.raises(BackupError, match="No backup at"):
        await restore(sqlite_url, tmp_path / "missing.db")


def test_backing_up_a_missing_or_unreachable_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="No database at"):
        back_up(f"sqlite+aiosqlite:///{tmp_path / 'none.db'}", tmp_path / "copy.db")
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(BackupError, match="Cannot back up the database at postgresql"):
        back_up("postgresql+asyncpg://postgres@127.0.0.1:9/loyalty", tmp_path / "copy.dump")
    assert not (tmp_path / "copy.dump").exists()


def test_the_url_s_ssl_option_reaches_pg_dump_and_an_unknown_option_is_refused(tmp_path: Path) -> None:
    with own_postgres() as url:  # this server speaks no SSL: requiring it must fail
        assert back_up(f"{url}?ssl=disable", tmp_path / "plain.dump").is_file()
        with pytest.raises(BackupError, match="server does not support SSL"):
            back_up(f"{url}?ssl=require", tmp_path / "secure.dump")
        with pytest.raises(BackupError, match=r"^DATABASE_URL's option statement_cache_size has no pg_dump"):
            back_up(f"{url}?statement_cache_size=0", tmp_path / "other.dump")
    assert not (tmp_path / "secure.dump").exists() and not (tmp_path / "other.dump").exists()


def test_the_command_backs_up_into_backup_dir_and_restores(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    shutil.copyfile(sqlite_template, tmp_path / "data" / "loyalty.db")  # the default DATABASE_URL
    monkeypatch.setenv("BACKUP_DIR", "saved")
    assert main(["backup"]) == 0
    [copy] = (tmp_path / "saved").iterdir()
    assert copy.name.startswith("loyalty-") and copy.suffix == ".db"
    assert main(["restore", str(copy)]) == 0
    capsys.readouterr()
    assert main(["restore", "nowhere.db"]) == 2
    assert "No backup at nowhere.db" in one_line(capsys.readouterr().err)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:9/loyalty")
    assert main(["backup"]) == 2
    assert "Cannot back up the database at postgresql" in one_line(capsys.readouterr().err)


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()


def nightly_jobs(
    sessions: async_sessionmaker[AsyncSession], sqlite_url: str, folder: Path, keep: int, clock: list[datetime]
) -> Jobs:
    """The daily jobs, the shop in Tehran, the owner keeping `keep` nightly backups in `folder`."""
    backups = NightlyBackups(sqlite_url, folder, keep)
    return Jobs(create_i18n("fa"), sessions, Rules(), lambda: clock[0], ZoneInfo("Asia/Tehran"), backups=backups)


async def test_the_nightly_backup_keeps_the_last_n(
    sqlite_sessions: async_sessionmaker[AsyncSession], sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "loyalty-20200101-000000.db").write_bytes(b"")  # made by `loyalty-bot backup`: never pruned
    clock = [TEHRAN_NIGHT]
    jobs = nightly_jobs(sqlite_sessions, sqlite_url, folder, 2, clock)
    nightly = []
    for day in range(4):
        clock[0] = TEHRAN_NIGHT + timedelta(days=day)
        assert await run_due(jobs) == ["backup"]
        assert await run_due(jobs) == []  # once a day
        nightly.extend(path.name for path in folder.glob("nightly-*") if path.name not in nightly)
    assert len(nightly) == 4
    assert sorted(path.name for path in folder.iterdir()) == ["loyalty-20200101-000000.db", *nightly[-2:]]
    assert rows_of(folder / nightly[-1]) == ([], 0)


async def test_the_nightly_backup_is_off_unless_the_owner_keeps_some(
    sqlite_sessions: async_sessionmaker[AsyncSession], sqlite_url: str, tmp_path: Path
) -> None:
    jobs = nightly_jobs(sqlite_sessions, sqlite_url, tmp_path / "backups", 0, [TEHRAN_NIGHT])
    assert await run_due(jobs) == ["backup"]
    assert not (tmp_path / "backups").exists()
