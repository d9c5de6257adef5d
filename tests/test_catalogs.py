"""The translation catalogs: every text the code asks for exists in Persian and English, alike in placeholders."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, read_catalog

ROOT = Path(__file__).parent.parent
CODE_FOLDERS = ("bot", "handlers", "loyalty", "scheduler", "texts")
GETTEXT_NAMES = {"_", "__", "gettext", "lazy_gettext"}


def texts(language: str) -> dict[str, str]:
    return {str(message.id): str(message.string) for message in read_catalog(LOCALES / language) if message.id}


def code_trees() -> list[tuple[str, ast.AST]]:
    paths = sorted(path for folder in CODE_FOLDERS for path in (ROOT / folder).rglob("*.py"))
    return [(str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))) for path in paths]


def keys_in_code() -> dict[str, str]:
    """Every constant key passed to a gettext function, with where it was found."""
    found: dict[str, str] = {}
    for where, tree in code_trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id in GETTEXT_NAMES and node.args and isinstance(node.args[0], ast.Constant):
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
    missing = {key: where for key, where in keys_in_code().items() if not known.get(key)}
    assert not missing, f"keys without a {language} text: {missing}"


@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_text_is_left_unused(language: str) -> None:
    unused = set(texts(language)) - strings_in_code()
    assert not unused, f"{language} texts the code never asks for: {sorted(unused)}"


def test_both_languages_have_the_same_placeholders() -> None:
    persian, english = texts("fa"), texts("en")
    assert persian.keys() == english.keys()
    differing = {key for key in persian if placeholders(persian[key]) != placeholders(english[key])}
    assert not differing, f"placeholders differ between fa and en: {sorted(differing)}"


def test_persian_texts_are_persian() -> None:
    persian, english = texts("fa"), texts("en")
    repeated = {key for key, text in persian.items() if text == english[key] and any(c.isalpha() for c in text)}
    assert not repeated, f"Persian catalog repeats English: {sorted(repeated)}"


@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_key_is_defined_in_two_files(language: str) -> None:
    seen: dict[str, str] = {}
    twice = []
    for po_path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as po_file:
            for message in read_po(po_file, locale=language):
                if message.id and seen.setdefault(str(message.id), po_path.name) != po_path.name:
                    twice.append(f"{message.id} ({seen[str(message.id)]}, {po_path.name})")
    assert not twice, f"keys defined twice: {twice}"
