"""Test databases: a migrated SQLite file per test, and one PostgreSQL database per test run."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine
from storage.migrate import upgrade
from storage.models import Base

POSTGRES_URL = os.environ.get("LOYALTY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LOYALTY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("LOYALTY_REQUIRE_SERVICES") == "1"


def unavailable(service: str, error: Exception) -> None:
    """Skip a test whose service is down, or fail it when the run requires services (CI)."""
    reason = f"{service} is not reachable ({type(error).__name__}: {error})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; LOYALTY_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def migrated_sqlite_template(folder: Path) -> Path:
    """A SQLite file with every migration applied, to copy for each test."""
    path = folder / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


async def _admin(sql: str) -> None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


class PostgresRun:
    """A fresh PostgreSQL database for this test run, migrated once and dropped at the end."""

    def __init__(self) -> None:
        self.name = f"loyalty_test_{uuid.uuid4().hex[:10]}"
        self.url = make_url(POSTGRES_URL).set(database=self.name).render_as_string(hide_password=False)
        self.error: Exception | None = None

    def create(self) -> None:
        try:
            asyncio.run(_admin(f'CREATE DATABASE "{self.name}"'))
            asyncio.run(_migrate(self.url))
        except (OSError, Exception) as error:
            self.error = error

    def drop(self) -> None:
        if self.error is None:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


@contextmanager
def own_postgres() -> Iterator[str]:
    """A PostgreSQL database migrated to head for one test, dropped after it."""
    run = PostgresRun()
    run.create()
    if run.error is not None:
        unavailable("PostgreSQL", run.error)
    try:
        yield run.url
    finally:
        run.drop()


async def empty_tables(engine: AsyncEngine) -> None:
    """Remove every row (PostgreSQL database reused across the tests of a run)."""
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def sqlite_copy(template: Path, folder: Path) -> str:
    """A private copy of the migrated SQLite template, as a URL."""
    path = folder / "loyalty.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"
