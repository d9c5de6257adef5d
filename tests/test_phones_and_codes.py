"""Phone numbers and member codes as people type them."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.codes import grouped, new_member_code, read_member_code, take_member_reference
from loyalty.errors import InvalidPhone
from loyalty.numerals import format_number
from loyalty.phones import display_phone, looks_like_phone, normalise_phone


@pytest.mark.parametrize(
    "typed",
    ["09121234567", "+989121234567", "989121234567", "۰۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧", "0912 123 4567", "+98 912-123-4567"],
)
def test_iranian_mobile_numbers_in_every_form_become_one_e164(typed: str) -> None:
    assert normalise_phone(typed) == "+989121234567"


@pytest.mark.parametrize("prefix", ["", "0", "+98", "98", "0098"])
def test_every_iranian_mobile_range_is_read_as_the_numbering_plan_says(prefix: str) -> None:
    for first in range(900, 1000):
        typed = f"{prefix}{first}{first * 7 % 10_000:04d}555"[: len(prefix) + 10]
        try:
            planned = phonenumbers.format_number(
                phonenumbers.parse(f"+98{typed[len(prefix) :]}"), phonenumbers.PhoneNumberFormat.E164
            )
        except phonenumbers.NumberParseException:
            planned = None
        if planned and phonenumbers.is_valid_number(phonenumbers.parse(planned)):
            assert normalise_phone(typed) == planned, typed
        else:
            with pytest.raises(InvalidPhone):
                normalise_phone(typed)


def test_a_foreign_number_keeps_its_country() -> None:
    assert normalise_phone("+14155552671") == "+14155552671"


@pytest.mark.parametrize("typed", ["12345", "hello", "", "0912", "+98 000 000 0000"])
def test_what_is_not_a_phone_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(typed)


def test_numbers_are_shown_the_way_people_write_them() -> None:
    assert display_phone("+989121234567") == "0912 123 4567"
    assert display_phone("+14155552671").startswith("+1 ")


def test_typed_numbers_are_recognised_but_names_are_not() -> None:
    assert looks_like_phone("۰۹۱۲ ۱۲۳ ۴۵۶۷")
    assert not looks_like_phone("Sara")
    assert not looks_like_phone("1375/06/31")


def test_persian_numbers_use_persian_digits_and_grouping() -> None:
    assert format_number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert format_number(1234567, "en") == "1,234,567"


@given(st.integers(min_value=0, max_value=99))
def test_member_codes_are_eight_digits_and_read_back(_: int) -> None:
    code = new_member_code()
    assert len(code) == 8 and code.isdigit()
    assert read_member_code(code) == code
    assert read_member_code(grouped(code)) == code


def test_a_code_typed_in_persian_digits_with_spaces_is_read() -> None:
    code = new_member_code()
    persian = grouped(code).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert read_member_code(persian) == code


@given(st.integers(min_value=0, max_value=7), st.integers(min_value=1, max_value=9))
def test_a_single_mistyped_digit_is_caught(position: int, shift: int) -> None:
    code = new_member_code()
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert read_member_code(wrong) is None


@pytest.mark.parametrize(
    ("typed", "reference", "rest"),
    [
        ("4821 3375 250000 R-1", "4821 3375", "250000 R-1"),
        ("۴۸۲۱ ۳۳۷۵ ۲۵۰۰۰۰", "۴۸۲۱ ۳۳۷۵", "۲۵۰۰۰۰"),
        ("4821-3375 250000", "4821-3375", "250000"),
        ("48213375 2500 R-1", "48213375", "2500 R-1"),
        ("4821 3375", "4821 3375", ""),
        ("09121234567 2500 R-1", "09121234567", "2500 R-1"),
        ("+989121234567 1000", "+989121234567", "1000"),
        ("۰۹۱۲۱۲۳۴۵۶۷ ۲۵۰٬۰۰۰", "۰۹۱۲۱۲۳۴۵۶۷", "۲۵۰٬۰۰۰"),
        ("4821 +20 birthday  gift", "4821", "+20 birthday  gift"),
        ("  4821 3375   -20 entered  twice", "4821 3375", "-20 entered  twice"),
        ("", "", ""),
    ],
)
def test_the_member_reference_is_read_off_the_front_of_a_command(typed: str, reference: str, rest: str) -> None:
    assert take_member_reference(typed) == (reference, rest)
