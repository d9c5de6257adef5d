"""The end-to-end benchmarks (`bench.e2e`, `bench.webhook`) on a tiny burst: every /balance sent is answered and
measured, by polling and by webhook through the balancer. Their figures are BENCHMARKS.md's, never asserted here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import e2e, webhook
from bench.e2e import Run, Sitting, available_cores, prepare
from tests.databases import own_postgres, sqlite_copy

CHATS = 2
BURST = 6
TEST_REDIS_DATABASE = 13  # the benchmark's own is 14, the other tests' 0


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, made and dropped here (outside its event loop)."""
    with own_postgres() as url:
        yield url


def measured_sensibly(run: Run, kind: str) -> None:
    assert run.kind == kind
    assert 0 < run.p50_ms <= run.p99_ms
    assert run.per_second > 0 and run.cpu_ms > 0
    assert 0 < run.idle_rss_mb <= run.peak_rss_mb


async def test_the_product_polling_answers_every_balance_of_a_burst(tmp_path: Path, sqlite_template: Path) -> None:
    sitting = Sitting(sqlite_copy(sqlite_template, tmp_path), CHATS, BURST, tmp_path / "bots.log", available_cores())
    await prepare(sitting.url, CHATS)

    run = await e2e.measure("product", sitting)

    measured_sensibly(run, "product")


async def test_two_webhook_instances_sharing_postgresql_and_redis_answer_every_balance_of_a_burst(
    tmp_path: Path, postgres_url: str
) -> None:
    redis = e2e.redis_database(TEST_REDIS_DATABASE)
    sitting = Sitting(postgres_url, CHATS, BURST, tmp_path / "bots.log", available_cores(), redis)
    async with e2e.empty_redis(redis):
        await prepare(postgres_url, CHATS)

        run = await webhook.measure("2 instances", sitting)  # raises unless both instances had updates

    measured_sensibly(run, "2 instances")
