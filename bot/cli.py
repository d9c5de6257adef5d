"""The `loyalty-bot` command: run, scheduler, migrate, backup, restore, version."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot import __version__
from bot.settings import Settings, SettingsError, load_settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The subcommand and its options."""
    parser = argparse.ArgumentParser(prog="loyalty-bot", description="A customer club inside the messenger.")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="apply migrations and run the bot with long polling")
    commands.add_parser("scheduler", help="run only the daily jobs and the broadcast sender (no polling)")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("version", help="print the version")
    backup = commands.add_parser("backup", help="write a consistent copy of the database (default: into BACKUP_DIR)")
    backup.add_argument("path", nargs="?", type=Path, help="the backup file to write")
    restore = commands.add_parser("restore", help="replace the database's data with a backup, then migrate it")
    restore.add_argument("path", type=Path, help="a file written by `loyalty-bot backup`")
    return parser.parse_args(argv)


def back_up(args: argparse.Namespace, settings: Settings) -> str:
    """`backup [PATH]`: the copy's file."""
    from storage.backup import back_up, backup_path

    path = args.path or backup_path(settings.backup_dir, "loyalty", settings.database_url, datetime.now(UTC))
    return f"Backed up the database to {back_up(settings.database_url, path)}."


def restore(args: argparse.Namespace, settings: Settings) -> str:
    """`restore PATH`."""
    from storage.backup import restore

    asyncio.run(restore(settings.database_url, args.path))
    return f"Restored {args.path}; the database is up to date."


DATA_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], str]] = {
    "backup": back_up,
    "restore": restore,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; configuration and connection problems print one line and exit 2."""
    args = parse_args(argv)
    if args.command == "version":
        print(f"loyalty-bot {__version__}")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.app import migrate, run_polling, run_scheduler  # imported here so `version` and `--help` stay instant
    from storage.backup import BackupError

    try:
        settings = load_settings(args.env_file)
        if args.command == "migrate":
            asyncio.run(migrate(settings))
            print("Database is up to date.")
        elif args.command in DATA_COMMANDS:
            print(DATA_COMMANDS[args.command](args, settings))
        else:
            settings.require_token()
            asyncio.run(run_polling(settings) if args.command == "run" else run_scheduler(settings))
    except (SettingsError, BackupError) as error:
        print(f"loyalty-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
