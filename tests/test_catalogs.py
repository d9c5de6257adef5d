"""The translation catalogs: every text the code asks for exists in Persian and English, alike in placeholders; a
text that names a count has every plural form of its language and is asked for in the plural."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, read_catalog

ROOT = Path(__file__).parent.parent
CODE_FOLDERS = ("bot", "handlers", "loyalty", "scheduler", "texts")
SINGULAR_NAMES = {"_", "__", "gettext", "lazy_gettext"}
PLURAL_NAMES = {"counted", "ngettext", "lazy_ngettext"}  # texts.plurals.counted(key, count)
GETTEXT_NAMES = SINGULAR_NAMES | PLURAL_NAMES


def key_of(message: Message) -> str:
    """A text's key: its msgid (the singular one of a plural text)."""
    return str(message.id[0] if isinstance(message.id, tuple) else message.id)


def forms_of(message: Message) -> tuple[str, ...]:
    """A text's forms: one, or one per plural form of its language."""
    return tuple(message.string) if isinstance(message.string, tuple | list) else (str(message.string),)


def texts(language: str) -> dict[str, tuple[str, ...]]:
    """Every text of a language by key, with its forms."""
    return {key_of(message): forms_of(message) for message in read_catalog(LOCALES / language) if message.id}


def plural_texts(language: str) -> dict[str, Message]:
    """The texts of a language that name a count (`msgid_plural`)."""
    return {key_of(message): message for message in read_catalog(LOCALES / language) if message.pluralizable}


def code_trees() -> list[tuple[str, ast.AST]]:
    paths = sorted(path for folder in CODE_FOLDERS for path in (ROOT / folder).rglob("*.py"))
    return [(str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))) for path in paths]


def keys_in_code(names: set[str] = GETTEXT_NAMES) -> dict[str, str]:
    """Every constant key passed to one of the gettext functions `names`, with where it was found."""
    found: dict[str, str] = {}
    for where, tree in code_trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id in names and node.args and isinstance(node.args[0], ast.Constant):
                found[str(node.args[0].value)] = f"{where}:{node.lineno}"
    return found


def strings_in_code() -> set[str]:
    """Every string constant in the code: keys may also sit in tables (the command menu)."""
    return {
        node.value
        for _, tree in code_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_code_asks_for_texts() -> None:
    assert len(keys_in_code()) > 50


@pytest.mark.parametrize("language", ["fa", "en"])
def test_every_key_in_the_code_has_a_text(language: str) -> None:
    known = texts(language)
    missing = {key: where for key, where in keys_in_code().items() if not all(known.get(key, [""]))}
    assert not missing, f"keys without a {language} text: {missing}"


@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_text_is_left_unused(language: str) -> None:
    unused = set(texts(language)) - strings_in_code()
    assert not unused, f"{language} texts the code never asks for: {sorted(unused)}"


def test_both_languages_have_the_same_placeholders() -> None:
    """In every form: a plural form names the same things as the singular, in both languages."""
    persian, english = texts("fa"), texts("en")
    assert persian.keys() == english.keys()
    differing = {
        key for key in persian if len({frozenset(placeholders(form)) for form in persian[key] + english[key]}) != 1
    }
    assert not differing, f"placeholders differ between forms or between fa and en: {sorted(differing)}"


def test_persian_texts_are_persian() -> None:
    persian, english = texts("fa"), texts("en")
    repeated = {
        key
        for key, forms in persian.items()
        if any(form in english[key] and any(c.isalpha() for c in form) for form in forms)
    }
    assert not repeated, f"Persian catalog repeats English: {sorted(repeated)}"


@pytest.mark.parametrize("language", ["fa", "en"])
def test_every_plural_text_has_all_the_forms_of_its_language(language: str) -> None:
    """English has two forms (1 point, 2 points), Persian one (a noun after a number keeps one form): as many texts
    as the catalog's Plural-Forms says, none empty, and the plural key is the key itself."""
    catalog = read_catalog(LOCALES / language)
    plurals = plural_texts(language)
    assert plurals, "no text names a count"
    wrong = {
        key: forms_of(message)
        for key, message in plurals.items()
        if len(forms_of(message)) != catalog.num_plurals or not all(forms_of(message)) or message.id[1] != key
    }
    assert not wrong, f"{language} plural texts without their {catalog.num_plurals} forms: {wrong}"


@pytest.mark.parametrize("language", ["fa", "en"])
def test_every_file_of_a_language_has_the_plural_rule_it_is_read_with(language: str) -> None:
    rules = set()
    for po_path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as po_file:
            rules.add(read_po(po_file, locale=language).plural_forms)
    assert rules == {read_catalog(LOCALES / language).plural_forms}


def test_texts_that_name_a_count_are_asked_for_in_the_plural_and_others_not() -> None:
    """A plural text read with `_` would come out as its singular form whatever the count; a text without forms read
    with `counted` would ignore the count."""
    plurals = plural_texts("en").keys()
    assert plural_texts("fa").keys() == plurals
    singular_asked = {key: where for key, where in keys_in_code(SINGULAR_NAMES).items() if key in plurals}
    plural_asked = {key: where for key, where in keys_in_code(PLURAL_NAMES).items() if key not in plurals}
    assert not singular_asked, f"plural texts asked for without a count: {singular_asked}"
    assert not plural_asked, f"texts asked for with a count that have no plural forms: {plural_asked}"


@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_key_is_defined_in_two_files(language: str) -> None:
    seen: dict[str, str] = {}
    twice = []
    for po_path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as po_file:
            for message in read_po(po_file, locale=language):
                if message.id and seen.setdefault(key_of(message), po_path.name) != po_path.name:
                    twice.append(f"{key_of(message)} ({seen[key_of(message)]}, {po_path.name})")
    assert not twice, f"keys defined twice: {twice}"
