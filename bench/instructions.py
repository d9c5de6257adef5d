"""Instructions a bot runs, counted by valgrind's callgrind: a figure that others on the machine do not move.

On a machine shared with others (a virtual one here), CPU time per update moves by a third from one run to the next
for the same code; instructions counted do not (the same count, within 0.2%, run after run). `bench.e2e
--instructions` starts each bot under callgrind with counting off (start-up runs some ten times slower, not fifty),
turns it on for the bursts measured and off after (`counted`), then reads the count from callgrind's dump. An
instruction is not a nanosecond: code that touches more memory runs fewer instructions a second, so these figures
say what changed in a bot's work, and the timed figures what it costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

CALLGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no")
TOTALS = re.compile(r"^totals:\s*(\d+)", re.MULTILINE)


def under_callgrind(command: list[str], folder: Path) -> list[str]:
    """`python -m *command` under callgrind, counting off, its dumps in `folder`."""
    return [*CALLGRIND, f"--callgrind-out-file={folder / 'callgrind.%p'}", sys.executable, "-m", *command]


async def control(pid: int, *arguments: str) -> None:
    """Tell the callgrind running process `pid` what to do (`callgrind_control`)."""
    process = await asyncio.create_subprocess_exec(
        "callgrind_control", *arguments, str(pid), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    if await process.wait():
        raise RuntimeError(f"callgrind_control {' '.join(arguments)} {pid} failed")


@contextlib.asynccontextmanager
async def counted(pids: list[int], folder: Path) -> AsyncIterator[list[int]]:
    """Count the instructions the processes `pids` run inside the block; the list given is filled at its end with
    each one's count."""
    counts: list[int] = []
    for pid in pids:
        await control(pid, "--instr=on")
    yield counts
    for pid in pids:
        await control(pid, "--instr=off")
        await control(pid, "--dump")
        dump = max(folder.glob(f"callgrind.{pid}.*"), key=lambda path: int(path.suffix[1:]))  # the newest
        totals = TOTALS.search(dump.read_text())
        if totals is None:
            raise RuntimeError(f"no totals in {dump}")
        counts.append(int(totals.group(1)))
