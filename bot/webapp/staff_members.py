"""The counter in the Mini App: staff search members (by code, phone in any form the chat reads, or the start of a
name), open a member's page, and act on it as their role allows, through the chat's domain calls and words.

A cashier records a purchase (`purchases.record_purchase`: an amount far above the usual one is confirmed first, as
in the chat; the page's key for the form is the purchase's key when it has no receipt, as an update's is in the
chat, so a form sent twice records once). A manager also undoes a purchase and adjusts points with a reason. Every
refusal is the chat's sentence as a JSON error."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from aiohttp import web

from bot.webapp.answers import Refusal
from bot.webapp.visits import Visit, for_staff
from handlers.club import currency
from handlers.messages import problem
from handlers.replies import counter_card, member_name
from handlers.staff.counter.lookup import BadPoints, adjust_member, adjust_points, adjust_refusal
from handlers.staff.counter.recording import confirm_question, purchase_notices, staff_confirmation
from handlers.staff.counter.undo import RECENT, purchase_line, undo_notices, undo_problem, undone_text
from loyalty import members, payments, purchases, rules, staff
from loyalty.errors import LoyaltyError
from loyalty.money import parse_amount
from loyalty.payments import Payment
from loyalty.staff import Role, at_least
from storage.models import Member
from texts.numbers import code_text, number, phone_text
from texts.payments import payment_name
from texts.tiers import tier_name

FOUND = 20  # members a search lists at most
KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # the page's key for one form sent


def listed(member: Member) -> dict[str, Any]:
    """A member in a list: name, code, phone, points and tier, as the counter writes them."""
    return {
        "id": member.id,
        "name": member_name(member),
        "code": code_text(member.code),
        "phone": phone_text(member.phone),
        "points": number(member.balance),
        "tier": tier_name(member.tier),
    }


async def search(visit: Visit) -> dict[str, Any]:
    """The members `?q=` names: by code, phone or the start of a name."""
    try:
        found = await members.search(visit.session, visit.request.query.get("q", ""), FOUND)
    except LoyaltyError as error:
        raise Refusal(400, "search_refused", message=problem(error)) from None
    return {"members": [listed(member) for member in found]}


async def member_asked(visit: Visit) -> Member:
    """The member the path names; an unknown one is not found (404)."""
    member = await visit.session.get(Member, int(visit.request.match_info["member"]))
    if member is None:
        raise Refusal(404, "webapp.not_found")
    return member


async def member_page(visit: Visit) -> dict[str, Any]:
    """The member as the counter shows them (balance, tier, spend, last visits), their recent purchases, and what the
    staff member's role allows."""
    member, webapp = await member_asked(visit), visit.webapp
    club_rules = await rules.current(visit.session, webapp.club.rules)
    summary = await purchases.summary(visit.session, member, club_rules, visit.now)
    unit = await currency(visit.session, webapp.club)
    latest = await purchases.recent(visit.session, member.id, RECENT)
    manager = at_least(visit.role, Role.MANAGER)
    return {
        **listed(member),
        "text": counter_card(member, summary, club_rules, webapp.club.zone),
        "purchases": [
            {
                "id": purchase.id,
                "line": purchase_line(place, purchase, webapp.club, unit),
                "undone": purchase.reversed_at is not None,
            }
            for place, purchase in enumerate(latest, start=1)
        ],
        "payments": [{"name": method.value, "label": payment_name(method)} for method in payments.offered(club_rules)],
        "may": {"record": True, "undo": manager, "adjust": manager},
    }


async def asked_fields(visit: Visit, *names: str) -> dict[str, Any]:
    """The JSON body's fields `names` (a missing one None), and its `key` for the form sent; a bad body is refused."""
    try:
        body = await visit.request.json()
        fields = {name: body.get(name) for name in (*names, "key")}
    except (ValueError, AttributeError):
        raise Refusal(400, "webapp.bad_request") from None
    if not isinstance(fields["key"], str) or not KEY.match(fields["key"]):
        raise Refusal(400, "webapp.bad_request")
    return fields


def payment_asked(typed: object) -> Payment | None:
    """The payment method picked on the form (none if not said); an unknown one is refused."""
    if typed in (None, ""):
        return None
    if typed not in set(Payment):
        raise Refusal(400, "webapp.bad_request")
    return Payment(str(typed))


async def record(visit: Visit) -> dict[str, Any]:
    """Record a purchase for the member: amount (as the chat reads it), optional receipt and payment method; an
    unusual amount is asked about first (409 with the chat's question) unless `confirm` says yes."""
    fields = await asked_fields(visit, "amount", "receipt", "payment", "confirm")
    member, club, session = await member_asked(visit), visit.webapp.club, visit.session
    receipt = str(fields["receipt"]).strip() if fields["receipt"] else None
    try:
        amount = parse_amount(str(fields["amount"] or ""))
        staff.refuse_own_account(member, visit.visitor.telegram_id, "purchase")
        payment = payments.check(payment_asked(fields["payment"]), await rules.current(session, club.rules))
        why = await purchases.unusual(session, club.rules, amount)
        if why is not None and fields["confirm"] is not True:
            unit = await currency(session, club)
            raise Refusal(409, "confirm_amount", message=confirm_question(amount, member, why, unit))
        earned = await purchases.record_purchase(
            session,
            club.rules,
            member_id=member.id,
            amount=amount,
            receipt=receipt,
            stamp=visit.stamp(fields["key"]),
            payment=payment,
            notices=partial(purchase_notices, visit.webapp.i18n),
        )
    except LoyaltyError as error:
        raise Refusal(409, "purchase_refused", message=problem(error)) from None
    except ValueError:  # a receipt number longer than a receipt holds
        raise Refusal(400, "webapp.bad_request") from None
    return {"message": staff_confirmation(earned), "duplicate": earned.duplicate, "points": number(earned.balance)}


async def undo(visit: Visit) -> dict[str, Any]:
    """Undo a purchase (a manager's, at any time): the chat's words of what it took back; refused in them too."""
    club = visit.webapp.club
    unit = await currency(visit.session, club)
    try:
        undone = await purchases.undo_by_id(
            visit.session,
            club.rules,
            int(visit.request.match_info["purchase"]),
            visit.stamp(),
            notices=partial(undo_notices, visit.webapp.i18n, unit),
        )
    except LoyaltyError as error:
        raise Refusal(409, "undo_refused", message=undo_problem(error)) from None
    return {"message": undone_text(undone, unit)}


async def adjust(visit: Visit) -> dict[str, Any]:
    """Add or take points with a reason (the member is told), as /adjust does."""
    fields = await asked_fields(visit, "points", "reason")
    reason = " ".join(str(fields["reason"] or "").split())
    if not reason:
        raise Refusal(400, "webapp.reason_needed")
    try:
        points = adjust_points(str(fields["points"] or ""))
    except BadPoints as error:
        raise Refusal(400, "adjust_refused", message=str(error)) from None
    member = await member_asked(visit)
    try:
        message = await adjust_member(
            visit.session, visit.webapp.club, visit.webapp.i18n, member, points, reason, visit.stamp(fields["key"])
        )
    except LoyaltyError as error:
        raise Refusal(409, "adjust_refused", message=adjust_refusal(error)) from None
    return {"message": message}


def add_routes(app: web.Application) -> None:
    """The counter's routes: search and a member's page for staff; undo and adjust for managers and owners."""
    member = "/api/staff/members/{member:\\d+}"
    app.router.add_get("/api/staff/members", for_staff(search))
    app.router.add_get(member, for_staff(member_page))
    app.router.add_post(member + "/purchases", for_staff(record))
    app.router.add_post(member + "/adjust", for_staff(adjust, Role.MANAGER))
    app.router.add_post("/api/staff/purchases/{purchase:\\d+}/undo", for_staff(undo, Role.MANAGER))
