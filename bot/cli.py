"""The `loyalty-bot` command: run, scheduler, migrate, version."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot import __version__
from bot.settings import SettingsError, load_settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The subcommand and its options."""
    parser = argparse.ArgumentParser(prog="loyalty-bot", description="A customer club inside the messenger.")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="apply migrations and run the bot (long polling, or by webhook: WEBHOOK_URL)")
    commands.add_parser("scheduler", help="run only the daily jobs and the broadcast sender (no polling)")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("version", help="print the version")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; configuration and connection problems print one line and exit 2."""
    args = parse_args(argv)
    if args.command == "version":
        print(f"loyalty-bot {__version__}")
        return 0
    from bot.app import migrate, run_bot, run_scheduler, until_stopped  # here: `version` and `--help` stay instant
    from bot.logs import configure_logging

    try:
        settings = load_settings(args.env_file)
        configure_logging(settings.log_level, settings.log_format)
        if args.command == "migrate":
            asyncio.run(migrate(settings))
            print("Database is up to date.")
        else:
            settings.require_token()
            asyncio.run(until_stopped(run_bot(settings) if args.command == "run" else run_scheduler(settings)))
    except SettingsError as error:
        print(f"loyalty-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
