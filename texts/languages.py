"""The language a text is written in: the reply's, set by aiogram's i18n context, or a member's, named outright
(a job or the sender, outside any update); and the keys under which the chat keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiogram.utils.i18n import I18n, get_i18n

LOCALE_KEY = "locale"  # the update's data key of the language its texts are in (the error handler reads it)
LANGUAGE_KEY = "language"  # the conversation's key of a language chosen before joining
LANGUAGE_NAMES = {"fa": "فارسی", "en": "English"}  # each language by its own name, whatever the reply's language


def language() -> str:
    """The language of the reply being written."""
    return get_i18n().current_locale


@contextmanager
def speaking(i18n: I18n, language: str) -> Iterator[None]:
    """Texts written in the block are in `language`, by `i18n` (which need not be the update's: a job has none)."""
    with i18n.context(), i18n.use_locale(language):
        yield
