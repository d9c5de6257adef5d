"""Domain errors that handlers turn into translated replies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loyalty.rewards import Terms


class LoyaltyError(Exception):
    """Base of every rule the club refuses to break."""


class InvalidPhone(LoyaltyError):
    """The text is not a phone number we can reach."""


class PhoneTaken(LoyaltyError):
    """The phone number belongs to another messenger account."""


class InvalidDate(LoyaltyError):
    """A date could not be read; `reason` says why (format, impossible, future, too_old, two_digit_year; for a range
    of days also order and too_long)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidTime(LoyaltyError):
    """A time of day could not be read."""


class InvalidName(LoyaltyError):
    """A name is empty, too long or not a name; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidRule(LoyaltyError):
    """A rule change the club cannot accept; `reason` is pydantic's error type (greater_than_equal…)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidShop(LoyaltyError):
    """A change of the shop's profile the club cannot accept; `reason` is pydantic's error type (string_too_long,
    phone, instagram, website…), or unknown for a field the shop does not have."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InsufficientPoints(LoyaltyError):
    """A debit asks for more points than the member has available now."""

    def __init__(self, available: int, needed: int) -> None:
        super().__init__(f"{available} available, {needed} needed")
        self.available = available
        self.needed = needed


class InvalidAmount(LoyaltyError):
    """A purchase amount the counter cannot record; `reason`: not_a_number, not_positive, too_large, below_minimum
    (the rules' `minimum`, in their unit `currency`)."""

    def __init__(self, reason: str, minimum: int = 0, currency: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.minimum = minimum
        self.currency = currency


class CreditOff(LoyaltyError):
    """A purchase on credit (نسیه) while the owner has on-credit sales off (`Rules.credit`)."""


class UnknownMember(LoyaltyError):
    """No member has this code or phone number."""


class MistypedCode(LoyaltyError):
    """Eight digits whose check digit is wrong: a member code with a typo."""


class NotAMemberReference(LoyaltyError):
    """The text is neither a member code nor a phone number."""


class ReceiptTaken(LoyaltyError):
    """This receipt number was recorded before, for another purchase."""


class PurchaseNotFound(LoyaltyError):
    """No purchase was recorded under this receipt number."""


class OwnAccount(LoyaltyError):
    """A staff member tried to give value to their own membership; `action`: purchase, adjust or gift."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


class AlreadyReversed(LoyaltyError):
    """The purchase was reversed before."""


class UndoRefused(LoyaltyError):
    """A cashier's own undo refused; `reason`: not_yours (another staff member recorded it) or too_late (the few
    minutes a cashier may undo their own purchase have passed) — a manager can still undo it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidReward(LoyaltyError):
    """A reward or gift the catalog cannot hold; `field` is what is wrong and `reason` why (e.g. cost, not_positive)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class RewardUnavailable(LoyaltyError):
    """The reward cannot be redeemed now; `reason`: unknown, inactive, out_of_stock or limit_reached."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RewardTermsChanged(LoyaltyError):
    """The reward changed after the member was quoted its terms; `terms` are its terms now (nothing was spent)."""

    def __init__(self, terms: Terms) -> None:
        super().__init__(terms.fingerprint)
        self.terms = terms


class NotAVoucherCode(LoyaltyError):
    """The text is not shaped like a voucher code at all."""


class VoucherMistyped(LoyaltyError):
    """A voucher code whose check character is wrong: a typo, not an unknown code."""


class VoucherNotFound(LoyaltyError):
    """No voucher has this code (or id), or it is not the asking member's."""


class VoucherNotUsable(LoyaltyError):
    """The voucher exists but is no longer active: used, expired or cancelled."""


class VoucherUsed(VoucherNotUsable):
    """The voucher was used at `used_at` by staff account `used_by`."""

    def __init__(self, used_at: datetime | None, used_by: int | None) -> None:
        super().__init__(f"used at {used_at}")
        self.used_at = used_at
        self.used_by = used_by


class VoucherExpired(VoucherNotUsable):
    """The voucher expired at `expires_at` without being used."""

    def __init__(self, expires_at: datetime) -> None:
        super().__init__(f"expired at {expires_at}")
        self.expires_at = expires_at


class VoucherCancelled(VoucherNotUsable):
    """The voucher was cancelled at `cancelled_at`."""

    def __init__(self, cancelled_at: datetime | None) -> None:
        super().__init__(f"cancelled at {cancelled_at}")
        self.cancelled_at = cancelled_at


class TooManyAttempts(LoyaltyError):
    """Too many wrong voucher codes from this account lately; try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class InvalidNumber(LoyaltyError):
    """A typed whole number out of `low`..`high`; `reason`: not_a_number, too_small or too_large."""

    def __init__(self, reason: str, low: int, high: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.low = low
        self.high = high


class UnreadableFile(LoyaltyError):
    """A member list that cannot be imported as a whole; `reason`: format, empty, no_phone_column or too_many_rows."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
