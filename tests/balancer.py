"""A load balancer in front of several bot instances in webhook mode: the emulator delivers each update to one of
their webhooks at random (`tests/test_instances.py`, `bench/webhook.py`)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.emulator import BotAPIEmulator


@dataclass
class Balancer:
    """Sends each update to one of the instances' webhooks at random, and counts what each one got."""

    emulator: BotAPIEmulator
    urls: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(16))
    got: Counter[str] = field(default_factory=Counter)

    async def deliver(self, update: dict[str, Any], url: str | None = None) -> None:
        """To one instance at random (or to `url`), once it has answered."""
        url = url or self.rng.choice(self.urls)
        self.got[url] += 1
        assert await self.emulator.deliver(update, url=url) == 200

    async def deliver_apart(self, *sent: dict[str, Any]) -> None:
        """Each to another instance (the same one when there is one), all at once."""
        urls = self.rng.sample(self.urls, len(sent)) if len(self.urls) > 1 else self.urls * len(sent)
        await asyncio.gather(*(self.deliver(update, url) for update, url in zip(sent, urls, strict=True)))
