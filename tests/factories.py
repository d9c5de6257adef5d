"""Factories for members and profiles."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.codes import new_member_code
from loyalty.members import Profile
from loyalty.rules import Rules
from storage.models import Member

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = Rules(welcome_bonus=100, expiry_days=365)


def profile(name: str = "Sara", language: str = "fa", **fields: object) -> Profile:
    """A newcomer's answers."""
    return Profile(first_name=name, language=language, **fields)  # type: ignore[arg-type]


async def imported_member(session: AsyncSession, phone: str, name: str = "Imported") -> Member:
    """A member the shop imported by phone, not yet linked to a messenger account."""
    member = Member(phone=phone, code=new_member_code(), first_name=name, language="fa", balance=0, tier="bronze")
    session.add(member)
    await session.commit()
    return member
