"""The `loyalty-bot` command: run, scheduler, migrate, backup, restore, export-sqlite-to-postgres, demo, version."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot import __version__
from bot.playground import DEFAULT_DATA, DEFAULT_PORT
from bot.settings import Settings, SettingsError, load_settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The subcommand and its options."""
    parser = argparse.ArgumentParser(prog="loyalty-bot", description="A customer club inside the messenger.")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="apply migrations and run the bot (long polling, or by webhook: WEBHOOK_URL)")
    commands.add_parser("scheduler", help="run only the daily jobs and the broadcast sender (no polling)")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("version", help="print the version")
    backup = commands.add_parser("backup", help="write a consistent copy of the database (default: into BACKUP_DIR)")
    backup.add_argument("path", nargs="?", type=Path, help="the backup file to write")
    restore = commands.add_parser("restore", help="replace the database's data with a backup, then migrate it")
    restore.add_argument("path", type=Path, help="a file written by `loyalty-bot backup`")
    export = commands.add_parser("export-sqlite-to-postgres", help="copy the SQLite database into an empty PostgreSQL")
    export.add_argument("--to", required=True, help="the PostgreSQL database, postgresql://user:password@host/db")
    export.add_argument("--from", dest="source", help="the SQLite database's URL (default: DATABASE_URL)")
    demo = commands.add_parser("demo", help="try the bot without a token: a seeded café and a web chat page")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the page's port on 127.0.0.1 ({DEFAULT_PORT})")
    demo.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"the café's folder (default: {DEFAULT_DATA})")
    demo.add_argument("--reset", action="store_true", help="start again from the seed")
    return parser.parse_args(argv)


def play(args: argparse.Namespace) -> int:
    """`demo`: the playground (`bot.playground.demo`) until stopped; a port already taken prints one line."""
    from bot.app import until_stopped
    from bot.logs import configure_logging
    from bot.playground.demo import run_demo

    configure_logging("INFO", "text")
    try:
        asyncio.run(until_stopped(run_demo(args.port, args.data, reset=args.reset)))
    except OSError as error:
        print(f"loyalty-bot: cannot serve the playground on port {args.port} ({error.strerror})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


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


def export(args: argparse.Namespace, settings: Settings) -> str:
    """`export-sqlite-to-postgres --to URL`: the figures compared on both sides."""
    from storage.transfer import copy_to_postgres

    figures = asyncio.run(copy_to_postgres(args.source or settings.database_url, args.to))
    width = max(len(figure.name) for figure in figures)
    lines = [f"{'':{width}}  {'SQLite':>15}  {'PostgreSQL':>15}"]
    lines += [f"{figure.name:{width}}  {figure.source:>15,}  {figure.target:>15,}" for figure in figures]
    return "\n".join([*lines, "Every row is copied: the counts and sums are equal."])


DATA_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], str]] = {
    "backup": back_up,
    "restore": restore,
    "export-sqlite-to-postgres": export,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; configuration and connection problems print one line and exit 2."""
    args = parse_args(argv)
    if args.command == "version":
        print(f"loyalty-bot {__version__}")
        return 0
    if args.command == "demo":
        return play(args)
    from bot.app import migrate, run_bot, run_scheduler, until_stopped  # here: `version` and `--help` stay instant
    from bot.logs import configure_logging
    from storage.backup import BackupError
    from storage.transfer import TransferError

    try:
        settings = load_settings(args.env_file)
        configure_logging(settings.log_level, settings.log_format)
        if args.command == "migrate":
            asyncio.run(migrate(settings))
            print("Database is up to date.")
        elif args.command in DATA_COMMANDS:
            print(DATA_COMMANDS[args.command](args, settings))
        else:
            settings.require_token()
            asyncio.run(until_stopped(run_bot(settings) if args.command == "run" else run_scheduler(settings)))
    except (SettingsError, BackupError, TransferError) as error:
        print(f"loyalty-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
