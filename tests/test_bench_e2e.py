"""The end-to-end benchmarks (`bench.e2e`, `bench.webhook`) on a tiny burst: every /balance sent is answered and
measured, by polling and by webhook through the balancer; and instructions counted under callgrind
(`bench.instructions`). Their figures are BENCHMARKS.md's, never asserted here."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import e2e, webhook
from bench.e2e import Run, Sitting, available_cores, prepare
from bench.instructions import counted, under_callgrind
from tests.databases import own_postgres, sqlite_copy

CHATS = 2
BURST = 6
TEST_REDIS_DATABASE = 13  # the benchmark's own is 14, the other tests' 0
SPIN_START = 3.0  # seconds Python takes to start under callgrind, counting nothing


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


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed (apt-get install valgrind)")
async def test_instructions_are_counted_while_the_block_runs(tmp_path: Path) -> None:
    (tmp_path / "spin.py").write_text("import time\nwhile True:\n    sum(range(1000))\n    time.sleep(0.001)\n")
    argv = under_callgrind(["spin"], tmp_path)
    process = await asyncio.create_subprocess_exec(*argv, cwd=tmp_path, stderr=asyncio.subprocess.DEVNULL)
    try:
        await asyncio.sleep(SPIN_START)
        async with counted([process.pid], tmp_path) as at_once:
            pass
        async with counted([process.pid], tmp_path) as for_a_second:
            await asyncio.sleep(1)
    finally:
        process.terminate()
        await process.wait()
    assert for_a_second[0] > 10 * at_once[0] > 0
