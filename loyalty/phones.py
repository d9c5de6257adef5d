"""Phone numbers normalised to E.164, with Iran as the default region."""

import re

import phonenumbers

from loyalty.errors import InvalidPhone
from loyalty.numerals import ascii_digits

DEFAULT_REGION = "IR"
_HOME_CODE = phonenumbers.country_code_for_region(DEFAULT_REGION)


def _home_mobile_pattern() -> str:
    """The numbering plan's pattern of the home region's mobile numbers (national, without the leading 0)."""
    plan = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    pattern = plan.mobile.national_number_pattern if plan and plan.mobile else None
    if pattern is None:
        raise RuntimeError(f"no mobile numbering plan for {DEFAULT_REGION}")
    return pattern


# A home mobile number written plainly (0912…, 912…, +98912…): its E.164 without parsing it (a tenth of the time).
_HOME_MOBILE = re.compile(rf"(?:0|\+{_HOME_CODE})?({_home_mobile_pattern()})")

NO_PHONE = "—"  # how an erased member's placeholder (`loyalty.privacy`) is shown: no number


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return `raw` as E.164 (+989121234567); accepts 0912…, +98912…, 98912… and Persian digits."""
    text = ascii_digits(raw).strip()
    if text.isdigit() and not text.startswith("0") and len(text) > 10:
        text = "+" + text  # Telegram sends contacts' numbers without the plus sign
    if region == DEFAULT_REGION and (mobile := _HOME_MOBILE.fullmatch(text)):
        return f"+{_HOME_CODE}{mobile[1]}"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(raw) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    """True when a typed text is probably a phone number (so we can explain why typing is refused)."""
    digits = [char for char in ascii_digits(text) if char.isdigit()]
    return len(digits) >= 7 and all(char.isdigit() or char in "+-() " for char in ascii_digits(text).strip())


def display_phone(e164: str) -> str:
    """A stored number as people write it: 0912 123 4567 at home, +44 20 … abroad; a dash for an erased member's."""
    if not e164.startswith("+"):
        return NO_PHONE
    number = phonenumbers.parse(e164)
    if phonenumbers.region_code_for_number(number) == DEFAULT_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
