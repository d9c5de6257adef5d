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
