"""The Persian catalog is written as Persian apps are, by the Academy's orthography, and speaks to the right person.

Every form of every Persian text (placeholders such as {amount} left out) follows these rules:
- digits are Persian (۰-۹): a Latin digit is allowed only inside a code that has Latin letters too, written as the
  till or the voucher prints it (R-1024, 7KQ2-M9XW-42); commands stay Latin (/earn) but their examples do not;
- a zero-width non-joiner (U+200C) joins compounds, never a space or nothing: می‌شود، نمی‌شود، امتیاز‌ها or
  امتیازها (not «امتیاز ها»)، بیش‌تر or بیشتر (not «بیش تر»)، نزدیک‌ترین، and the participles used as adjectives
  (استفاده‌شده، منقضی‌شده، ارسال‌نشده; «استفاده شده است» and «منقضی شده و …» are verbs and keep the space);
- the ezafe after a silent ه is written with hamza (دستهٔ کالا), never as «ه‌ی», and never left out in the common
  phrases listed in EZAFE_LEFT_OUT;
- a number's sign comes before it, as it is typed (+۵۰، -۵۰، +{points}), never after it («۵۰+»);
- a button word is natural: Skip is «فعلاً نه», not «رد شدن»; a back button's arrow points right (backwards in RTL);
- a line whose first letter is Latin (a command such as /earn) starts with a right-to-left mark (U+200F), so that
  Telegram lays the line out right to left.

Staff-facing texts are marked by file: a catalog whose header comment has a line starting "# Audience: staff."
holds texts for the cashier, manager or owner; an entry in it that is sent to a member instead carries the
extracted comment "#. member" (read by Babel's read_po as the message's auto_comments). A staff-facing text speaks
to the staff member reading it, not to the member: it has none of the member-addressed phrases in MEMBER_ADDRESSED
(«امتیاز گرفتید», «موجودی شما», «حسابتان»…, which only a member's own points, purchases or vouchers could be
called). Staff are addressed politely in the plural like members («نمی‌توانید برای خودتان خرید ثبت کنید»).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES

PERSIAN_FILES = sorted((LOCALES / "fa" / "LC_MESSAGES").glob("*.po"))
STAFF_AUDIENCE = "# Audience: staff."
MEMBER_MARK = "member"
ZWNJ, RLM = "\u200c", "\u200f"
LETTER = "\u0600-\u06ff"  # Persian and Arabic letters (and digits, which never follow a word directly here)
NOT_LETTER = rf"(?![{LETTER}])"
NO_WORD_BEFORE = rf"(?<![\w{ZWNJ}])"
VERB_STEMS = "شو|کن|گیر|توان|رس|ده|مان|آی|آور|خواه|بین|فرست|زن|گذار|پذیر|پیوند|افت|گرد|کش|نویس|بر|خور"
PARTICIPLES = "استفاده|منقضی|ارسال|صادر|لغو|زمان‌بندی|تعیین|دعوت|پس داده"
VERB_AFTER = rf"\s*(?:است|اند|بود|باشد|و{NOT_LETTER})"
MISSING_ZWNJ = {
    "می or نمی apart from its verb": re.compile(rf"{NO_WORD_BEFORE}ن?می (?=[{LETTER}])"),
    "می or نمی joined to its verb": re.compile(rf"{NO_WORD_BEFORE}ن?می(?:{VERB_STEMS})"),
    "ها apart from its noun": re.compile(rf"[{LETTER}] ها(?:ی|یی|یم|یت|یش|یمان|یتان|یشان)?{NOT_LETTER}"),
    "تر or ترین apart from its adjective": re.compile(rf"[{LETTER}] (?:تر|ترین|تری){NOT_LETTER}"),
    "a participle used as an adjective": re.compile(rf"(?:{PARTICIPLES}) ن?شده{NOT_LETTER}(?!{VERB_AFTER})"),
}
EZAFE_LEFT_OUT = re.compile(
    r"(?:شماره|دکمه|تاریخچه|هدیه|دسته|میانه|همه|نتیجه) (?:تلفن|موبایل|فاکتور|زیر|امتیاز|خوش|کالا|عضویت|اعضا)"
)
EZAFE_AS_YE = re.compile(rf"ه{ZWNJ}ی{NOT_LETTER}")
SIGN_AFTER = re.compile(r"(?:\}|[۰-۹])[+\-−](?![\w{۰-۹])")
LEFT_ARROWS = "⬅↩←«◀"
MEMBER_ADDRESSED = (
    "گرفتید",
    "امتیاز شما",
    "امتیازتان",
    "امتیازهای شما",
    "امتیازهایتان",
    "موجودی شما",
    "حساب شما",
    "حسابتان",
    "خرید شما",
    "خریدتان",
    "خریدهایتان",
    "بن شما",
    "بن‌های شما",
    "بن‌هایتان",
    "سطح شما",
    "تولدتان",
    "عضویت شما",
)


def without_placeholders(text: str) -> str:
    """The text with every {placeholder} left out (a literal {{ }} stays)."""
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(text))


def latin_digits(text: str) -> list[str]:
    """The tokens with Latin digits that are not codes (a code has Latin letters too)."""
    tokens = re.findall(r"[A-Za-z0-9][A-Za-z0-9\-]*", without_placeholders(text))
    return [token for token in tokens if re.search(r"\d", token) and not re.search(r"[A-Za-z]", token)]


def missing_zwnj(text: str) -> list[str]:
    return [f"{rule}: «{found.group()}»" for rule, pattern in MISSING_ZWNJ.items() for found in pattern.finditer(text)]


def ezafe(text: str) -> list[str]:
    return [found.group() for pattern in (EZAFE_LEFT_OUT, EZAFE_AS_YE) for found in pattern.finditer(text)]


def signs_after(text: str) -> list[str]:
    return [found.group() for found in SIGN_AFTER.finditer(text)]


def skip_words(text: str) -> list[str]:
    return ["رد شدن"] if "رد شدن" in text else []


def left_to_right_lines(text: str) -> list[str]:
    """Lines whose first letter is Latin and that do not start with a right-to-left mark."""
    lines = without_placeholders(text).split("\n")
    return [line for line in lines if not line.startswith(RLM) and re.match(rf"^[^A-Za-z{LETTER}]*[A-Za-z]", line)]


def member_addressed(text: str) -> list[str]:
    return [phrase for phrase in MEMBER_ADDRESSED if phrase in text]


RULES: dict[str, Callable[[str], list[str]]] = {
    "Latin digits": latin_digits,
    "missing ZWNJ": missing_zwnj,
    "ezafe not written as «هٔ»": ezafe,
    "sign after its number": signs_after,
    "«رد شدن» instead of «فعلاً نه»": skip_words,
    "a line starting with Latin without U+200F": left_to_right_lines,
}


def is_staff_file(header_comment: str) -> bool:
    return any(line.startswith(STAFF_AUDIENCE) for line in header_comment.splitlines())


def persian_texts() -> Iterator[tuple[str, str, bool]]:
    """Every Persian text form, as (key, form, staff-facing)."""
    for po_path in PERSIAN_FILES:
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale="fa")
        staff_file = is_staff_file(catalog.header_comment or "")
        for message in catalog:
            if not message.id:
                continue
            key = str(message.id[0] if isinstance(message.id, tuple) else message.id)
            forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
            for form in forms:
                yield key, str(form), staff_file and MEMBER_MARK not in message.auto_comments


@pytest.mark.parametrize("rule", RULES)
def test_persian_texts_follow_the_orthography(rule: str) -> None:
    broken = {key: found for key, form, _ in persian_texts() if (found := RULES[rule](form))}
    assert not broken, f"Persian texts with {rule}: {broken}"


def is_back_button(key: str) -> bool:
    """A button that goes back to where the person came from (not "give back" a voucher)."""
    return key.startswith("button.") and key.endswith("back") and not key.endswith("give_back")


def test_back_buttons_point_backwards_in_right_to_left() -> None:
    wrong = {
        key: form
        for key, form, _ in persian_texts()
        if is_back_button(key) and any(arrow in form for arrow in LEFT_ARROWS)
    }
    assert not wrong, f"Persian back buttons pointing left (forwards in RTL): {wrong}"


def test_staff_texts_speak_to_the_staff_member() -> None:
    staff = [(key, form) for key, form, staff_facing in persian_texts() if staff_facing]
    assert len(staff) > 100, "no catalog file is marked staff-facing"
    wrong = {key: found for key, form in staff if (found := member_addressed(form))}
    assert not wrong, f"staff-facing texts addressed to the member: {wrong}"


@pytest.mark.parametrize(
    ("rule", "wrong", "right"),
    [
        ("Latin digits", "مثال: /earn 48213375 250000", "مثال: /earn ۴۸۲۱۳۳۷۵ ۲۵۰۰۰۰ R-1024 {amount}"),
        ("missing ZWNJ", "امتیاز منقضی می شود", "امتیاز منقضی می‌شود"),
        ("missing ZWNJ", "نمیتوانید", "نمی‌توانید، میزان، میلیون"),
        ("missing ZWNJ", "امتیاز ها و نزدیک ترین سطح", "امتیازها و نزدیک‌ترین سطح"),
        ("missing ZWNJ", "بن‌های استفاده شده:", "این بن استفاده شده است و منقضی شده و دیگر …"),
        ("ezafe not written as «هٔ»", "با دکمه زیر، خانه‌ی ما", "با دکمهٔ زیر، خانهٔ ما، خانه‌ای"),
        ("sign after its number", "۵۰+ امتیاز، {points}+", "+۵۰ امتیاز، -{points}، ۱۸-۳۰"),
        ("a line starting with Latin without U+200F", "ثبت:\n/earn <کد>", f"ثبت:\n{RLM}/earn <کد>\n{{name}} آمد"),
    ],
)
def test_each_rule_finds_what_it_is_meant_to(rule: str, wrong: str, right: str) -> None:
    assert RULES[rule](wrong)
    assert not RULES[rule](right)


def test_member_addressed_phrases_are_found() -> None:
    assert member_addressed("✅ شما ۵۰ امتیاز گرفتید")
    assert not member_addressed("✅ ۵۰ امتیاز برای سارا ثبت شد. نمی‌توانید برای خودتان خرید ثبت کنید.")


def staff_files() -> list[Path]:
    return [path for path in PERSIAN_FILES if is_staff_file(path.read_text(encoding="utf-8"))]


def test_the_staff_files_are_the_staff_features() -> None:
    names = {path.stem for path in staff_files()}
    expected = {
        "blocking",
        "campaigns",
        "catalog",
        "counter",
        "digest",
        "exports",
        "gifts",
        "imports",
        "onboarding",
        "payments",
        "redeem",
        "report",
        "settings",
        "staff",
        "stats",
    }
    assert names == expected
