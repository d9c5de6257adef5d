"""The `loyalty-bot` command as a shop owner runs it: clear one-line errors, migrations, version."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from bot.settings import SettingsError, load_settings
from tests.commands import one_line
from tests.live import SETTING_NAMES


def loyalty_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command in an empty folder, with only the given settings."""
    clean = {key: value for key, value in os.environ.items() if key not in SETTING_NAMES}
    clean.update(env)
    command = [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(command, cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60)


def test_version_prints_the_version(tmp_path: Path) -> None:
    result = loyalty_bot(tmp_path, "version")
    assert result.returncode == 0 and result.stdout.strip() == f"loyalty-bot {__version__}"


def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    result = loyalty_bot(tmp_path, "run")
    assert result.returncode == 2
    assert "BOT_TOKEN is not set" in one_line(result.stderr)


def test_run_with_a_malformed_token_says_so(tmp_path: Path) -> None:
    result = loyalty_bot(tmp_path, "run", BOT_TOKEN="not-a-token")
    assert result.returncode == 2
    assert "BOT_TOKEN is malformed" in one_line(result.stderr)


def test_run_with_an_unreachable_bot_api_says_so(tmp_path: Path) -> None:
    result = loyalty_bot(tmp_path, "run", BOT_TOKEN="123:abc", BOT_API_URL="http://127.0.0.1:9")
    assert result.returncode == 2
    assert "Cannot reach the Bot API at http://127.0.0.1:9" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone"),
        ("OWNER_IDS", "12,abc", "OWNER_IDS: must be comma-separated numeric"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: must start with"),
        ("DEFAULT_LANGUAGE", "de", "DEFAULT_LANGUAGE: must be one of fa, en"),
        ("BOT_API_URL", "api.telegram.org", "BOT_API_URL: must start with http"),
        ("WELCOME_BONUS", "-5", "WELCOME_BONUS: Input should be greater than or equal to 0"),
        ("WEBHOOK_URL", "bot.example.com/telegram", "WEBHOOK_URL: must start with http"),
        ("WEBHOOK_SECRET", "not secret!", "WEBHOOK_SECRET: use at most 256 letters, digits, _ and -"),
        ("WEB_PORT", "70000", "WEB_PORT: Input should be less than or equal to 65535"),
    ],
)
def test_each_wrong_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings(env_file=None)
    assert message in str(refused.value)


def test_a_wrong_setting_stops_the_command_with_one_line(tmp_path: Path) -> None:
    result = loyalty_bot(tmp_path, "run", BOT_TOKEN="123:abc", TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert "TIMEZONE: unknown time zone" in one_line(result.stderr)


def test_owner_ids_are_read_as_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWNER_IDS", " 12, 34 ")
    assert load_settings(env_file=None).owner_ids == (12, 34)


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("BOT_TOKEN=123:abc\nOWNER_IDS=7\n", encoding="utf-8")
    settings = load_settings(tmp_path / ".env")
    assert (settings.require_token(), settings.owner_ids) == ("123:abc", (7,))


def test_migrate_creates_the_default_sqlite_database_in_wal_mode(tmp_path: Path) -> None:
    result = loyalty_bot(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    database = tmp_path / "data" / "loyalty.db"
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type='table'")}
        mode = connection.execute("pragma journal_mode").fetchone()[0]
    assert {"members", "ledger_entries", "point_lots", "alembic_version"} <= tables
    assert mode == "wal"
