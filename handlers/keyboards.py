"""Keyboards shown to members; every label comes from the catalogs."""

from functools import cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from handlers.filters import ButtonId
from texts.languages import LANGUAGE_NAMES

SKIP = __("button.skip")
FEMALE = __("button.female")
MALE = __("button.male")
CONSENT_YES = __("button.news_yes")
CONSENT_NO = __("button.news_no")
MENU_BALANCE = __("menu.balance")
MENU_CARD = __("menu.card")
MENU_INVITE = __("menu.invite")
MENU_REWARDS = __("menu.rewards")
MENU_PROFILE = __("menu.profile")
MENU_HELP = __("menu.help")
MENU_SHOP = __("menu.shop")


class HistoryPage(CallbackData, prefix="hist"):
    """A page of the member's history."""

    page: ButtonId


class ProfileEdit(CallbackData, prefix="prof"):
    """Which profile field the member wants to change, and to what (for choices)."""

    field: str
    value: str = ""


class LanguageChoice(CallbackData, prefix="lang"):
    """The language picked in /language."""

    code: str


class ChecklistStep(CallbackData, prefix="onb"):
    """A button of the owner's checklist (`loyalty.onboarding.Step`): the feature of that step opens its place."""

    step: str


def _reply(rows: list[list[str]], placeholder: str | None = None) -> ReplyKeyboardMarkup:
    """A reply keyboard from rows of labels."""
    builder = ReplyKeyboardBuilder()
    for row in rows:
        builder.row(*(KeyboardButton(text=label) for label in row))
    return builder.as_markup(resize_keyboard=True, input_field_placeholder=placeholder)


def share_phone() -> ReplyKeyboardMarkup:
    """One button that shares the member's own phone number."""
    button = KeyboardButton(text=_("button.share_phone"), request_contact=True)
    return ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True)


def name_choice(telegram_name: str | None) -> ReplyKeyboardMarkup | None:
    """The name from the messenger as a one-tap answer, when there is one."""
    return _reply([[telegram_name]]) if telegram_name else None


def skip_only() -> ReplyKeyboardMarkup:
    """A lone Skip button under a typed answer."""
    return _reply([[str(SKIP)]])


def gender_choice() -> ReplyKeyboardMarkup:
    """Female, male, or skip."""
    return _reply([[str(FEMALE), str(MALE)], [str(SKIP)]])


def consent_choice() -> ReplyKeyboardMarkup:
    """Yes or no to news, or skip."""
    return _reply([[str(CONSENT_YES), str(CONSENT_NO)], [str(SKIP)]])


def main_menu() -> ReplyKeyboardMarkup:
    """The member's main menu in the current language (built once per language: most replies carry it)."""
    return _main_menu(get_i18n().current_locale)


@cache
def _main_menu(language: str) -> ReplyKeyboardMarkup:
    labels = [MENU_BALANCE, MENU_CARD, MENU_INVITE, MENU_REWARDS, MENU_SHOP, MENU_PROFILE, MENU_HELP]
    texts = [str(label) for label in labels]
    return _reply([texts[0:2], texts[2:4], texts[4:6], texts[6:]])


def open_app(webapp_url: str | None) -> InlineKeyboardMarkup | None:
    """One button opening the Mini App at `webapp_url` (None without one). An inline button, not one of the main
    menu's: a Mini App opened from a reply keyboard gets no initData, so it could not tell who opened it."""
    if webapp_url is None:
        return None
    button = InlineKeyboardButton(text=_("button.open_app"), web_app=WebAppInfo(url=webapp_url))
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def history_pages(page: int, pages: int) -> InlineKeyboardMarkup | None:
    """Newer / older buttons for a history page, when there is more than one page."""
    builder = InlineKeyboardBuilder()
    if page > 0:
        builder.button(text=_("button.newer"), callback_data=HistoryPage(page=page - 1))
    if page + 1 < pages:
        builder.button(text=_("button.older"), callback_data=HistoryPage(page=page + 1))
    return builder.as_markup() if page > 0 or page + 1 < pages else None


def profile_actions(news_consent: bool) -> InlineKeyboardMarkup:
    """What a member can change on the profile card."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.edit_name"), callback_data=ProfileEdit(field="name"))
    builder.button(text=_("button.edit_birthday"), callback_data=ProfileEdit(field="birthday"))
    builder.button(text=_("button.edit_gender"), callback_data=ProfileEdit(field="gender"))
    news = _("button.news_off") if news_consent else _("button.news_on")
    builder.button(text=news, callback_data=ProfileEdit(field="news", value="0" if news_consent else "1"))
    builder.button(text=_("button.language"), callback_data=ProfileEdit(field="language"))
    builder.adjust(2, 2, 1)
    return builder.as_markup()


def gender_actions() -> InlineKeyboardMarkup:
    """Gender choices for the profile, including not saying."""
    builder = InlineKeyboardBuilder()
    builder.button(text=str(FEMALE), callback_data=ProfileEdit(field="gender", value="female"))
    builder.button(text=str(MALE), callback_data=ProfileEdit(field="gender", value="male"))
    builder.button(text=_("button.gender_none"), callback_data=ProfileEdit(field="gender", value="none"))
    builder.adjust(2, 1)
    return builder.as_markup()


def language_actions() -> InlineKeyboardMarkup:
    """One button per supported language, each in its own script."""
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageChoice(code=code))
    return builder.as_markup()
