"""Translation catalogs (gettext .po, compiled in memory at start) and the member's language."""

from __future__ import annotations

import gettext
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.settings import SUPPORTED_LANGUAGES
from texts.languages import LANGUAGE_KEY, LOCALE_KEY

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class CatalogI18n(I18n):
    """aiogram's I18n reading `.po` catalogs directly, so no compiled `.mo` files live in the repository.

    Each language may split its texts over several files, one per feature (`messages.po`, `staff.po`…);
    they are merged into one catalog. A text that names a count has a form per plural form of its language
    (`msgid_plural`, read with `ngettext`), chosen by the rule in the files' `Plural-Forms` header.
    """

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        """Compile every `locales/<lang>/LC_MESSAGES/*.po` of a language, merged, in memory."""
        return {folder.name: _compile(folder) for folder in sorted(self.path.iterdir()) if folder.is_dir()}

    @contextmanager
    def context(self) -> Iterator[I18n]:
        """Become the current I18n for aiogram's `gettext` (each subclass would otherwise get its own slot)."""
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def read_catalog(language_folder: Path) -> Catalog:
    """All `.po` files of one language merged into one catalog, under their headers: the plural rule is the files'
    (`Plural-Forms`: Persian's one form), not Babel's default for the language (two forms for Persian)."""
    merged = Catalog(locale=language_folder.name)
    for po_path in sorted((language_folder / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language_folder.name)
        merged.mime_headers = catalog.mime_headers
        for message in catalog:
            if message.id:
                merged[message.id] = message
    return merged


def _compile(language_folder: Path) -> gettext.GNUTranslations:
    compiled = BytesIO()
    write_mo(compiled, read_catalog(language_folder))
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def create_i18n(default_language: str) -> CatalogI18n:
    """The translator for the shipped catalogs."""
    return CatalogI18n(path=LOCALES, default_locale=default_language, domain=DOMAIN)


def language_of(user: User | None, default: str) -> str:
    """The supported language closest to a messenger account's language, or the shop's default."""
    return supported_language(user.language_code if user else None, default)


def supported_language(code: str | None, default: str) -> str:
    """The supported language closest to a language code such as `en-GB`, or `default`."""
    language = (code or "").split("-")[0].lower()
    return language if language in SUPPORTED_LANGUAGES else default


class AccountLocaleMiddleware(BaseMiddleware):
    """Puts the account's language in `locale` before anything can fail, so that even the apology for a database
    that is down speaks the user's language; `MemberLocaleMiddleware` replaces it with the member's choice."""

    def __init__(self, default: str) -> None:
        self.default = default

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data[LOCALE_KEY] = language_of(data.get("event_from_user"), self.default)
        return await handler(event, data)


class MemberLocaleMiddleware(I18nMiddleware):
    """Picks the member's chosen language, else the one chosen before joining, else the account's; the choice
    stays in `locale` for the error handler, which runs after this middleware's context has ended."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        data[LOCALE_KEY] = locale = await self._choose(data)
        return locale

    async def _choose(self, data: dict[str, Any]) -> str:
        member = data.get("member")
        if member is not None:
            return str(member.language)
        state: FSMContext | None = data.get("state")
        if state is not None:
            chosen = (await state.get_data()).get(LANGUAGE_KEY)
            if chosen:
                return str(chosen)
        return language_of(data.get("event_from_user"), self.i18n.default_locale)
