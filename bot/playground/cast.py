"""The people of the playground's café: who the web chat page lets you be, and whom the seed makes what.

Their messenger ids are fixed, so the seed (the owner in OWNER_IDS, the cashier on the staff, the members with
their phones) and the page (one chat per person) agree without asking each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Part = Literal["owner", "cashier", "customer"]


@dataclass(frozen=True)
class Person:
    """One person of the café: their messenger account, the part they play, and whether the seed makes them a
    member already (a newcomer tries joining)."""

    telegram_id: int
    first_name: str
    language: str  # the messenger's language code, which the bot's first guess of a language follows
    phone: str  # E.164, what sharing their contact sends
    part: Part
    member: bool


OWNER = Person(7001, "مریم", "fa", "+989121110001", "owner", member=True)
CASHIER = Person(7002, "رضا", "fa", "+989121110002", "cashier", member=False)
SARA = Person(7003, "سارا", "fa", "+989121110003", "customer", member=True)
ALI = Person(7004, "علی", "fa", "+989121110004", "customer", member=False)
EMMA = Person(7005, "Emma", "en", "+989121110005", "customer", member=True)
CAST: tuple[Person, ...] = (OWNER, CASHIER, SARA, ALI, EMMA)
