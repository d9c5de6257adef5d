"""Domain errors that handlers turn into translated replies."""


class LoyaltyError(Exception):
    """Base of every rule the club refuses to break."""


class InvalidPhone(LoyaltyError):
    """The text is not a phone number we can reach."""


class PhoneTaken(LoyaltyError):
    """The phone number belongs to another messenger account."""


class InvalidDate(LoyaltyError):
    """A date could not be read; `reason` says why (format, impossible, future, too_old, two_digit_year)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


class InsufficientPoints(LoyaltyError):
    """A debit asks for more points than the member has available now."""

    def __init__(self, available: int, needed: int) -> None:
        super().__init__(f"{available} available, {needed} needed")
        self.available = available
        self.needed = needed


class InvalidAmount(LoyaltyError):
    """A purchase amount the counter cannot record; `reason`: not_a_number, not_positive, too_large, below_minimum."""

    def __init__(self, reason: str, minimum: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.minimum = minimum


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


class AlreadyReversed(LoyaltyError):
    """The purchase was reversed before."""
