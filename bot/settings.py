"""Settings read once at start from the environment and a `.env` file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram.utils.token import TokenValidationError, validate_token
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LANGUAGES = ("fa", "en")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/loyalty.db"
TELEGRAM_HOST = "api.telegram.org"
PROXY_SCHEMES = ("http", "https", "socks5")
PROXY_FORM = "http://, https:// or socks5://[user:password@]host:port, e.g. socks5://127.0.0.1:1080"
DEFAULT_WEB_PORT = 8080


class SettingsError(Exception):
    """The configuration is wrong; the message says what to change."""


class Settings(BaseSettings):
    """Everything the shop owner configures, with its default."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = ""
    bot_api_url: str = "https://api.telegram.org"
    deep_link_url: str = "https://t.me"
    database_url: str = DEFAULT_DATABASE_URL
    owner_ids: Annotated[tuple[int, ...], NoDecode] = ()
    timezone: str = "Asia/Tehran"
    default_language: str = "fa"
    redis_url: str | None = None
    welcome_bonus: int = Field(default=100, ge=0)
    points_expiry_days: int = Field(default=365, ge=1)
    broadcast_rate: float = Field(default=25, gt=0, le=1000)
    accept_contact_without_id: bool | None = None  # None: accept on servers other than Telegram's (Bale)
    # Seeing it run (logs): the lowest level logged, and text or one JSON object a line (`bot.logs`)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    # The proxy (issue #16): the Bot API reached through an http, https or socks5 proxy, as Telegram is filtered in Iran
    proxy_url: str | None = None

    @field_validator("proxy_url", mode="before")
    @classmethod
    def _blank_is_no_proxy(cls, value: object) -> object:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("proxy_url")
    @classmethod
    def _proxy_form(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in PROXY_SCHEMES or not parts.hostname or port is None:
            raise ValueError(f"must look like {PROXY_FORM}")
        return value

    # Webhook and the web server (issue #16): WEBHOOK_URL turns webhook mode on, WEB_PORT the web server (its health
    # endpoints) in any mode; in webhook mode it listens on WEB_PORT or 8080.
    webhook_url: str | None = None
    webhook_secret: str = ""
    web_host: str = "0.0.0.0"  # every interface: reached through the reverse proxy, or from another container
    web_port: int | None = Field(default=None, ge=1, le=65535)

    # The Mini App (issue #17): its public HTTPS address, served by the web server at this URL's path (`bot.webapp`)
    webapp_url: str | None = None

    @field_validator("webapp_url")
    @classmethod
    def _webapp_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or not parts.path.strip("/"):
            raise ValueError("must be an https:// address with a path, e.g. https://bot.example.com/app")
        return value.rstrip("/")

    # Keeping the data (issue #16): where `loyalty-bot backup` and the nightly backup write, and how many nightly
    # backups are kept (0: no nightly backup)
    backup_dir: Path = Path("backups")
    backup_keep: int = Field(default=0, ge=0)

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(part.lstrip("-").isdigit() for part in parts):
                raise ValueError("must be comma-separated numeric Telegram user ids, e.g. 12345,67890")
            return tuple(int(part) for part in parts)
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("accept_contact_without_id", "webhook_url", "web_port", "webapp_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use a name such as Asia/Tehran") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{0,256}", value):
            raise ValueError("use at most 256 letters, digits, _ and - (e.g. the output of `openssl rand -hex 32`)")
        return value

    @field_validator("bot_api_url", "deep_link_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The shop's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def ownerless_contacts(self) -> bool:
        """Whether a shared contact that names no account may prove a phone number (see `handlers.filters.OwnContact`):
        as set, else only on servers other than Telegram's, whose contacts always name the account."""
        if self.accept_contact_without_id is not None:
            return self.accept_contact_without_id
        return urlsplit(self.bot_api_url).hostname != TELEGRAM_HOST

    @property
    def listen_port(self) -> int | None:
        """The web server's port: WEB_PORT, else 8080 in webhook mode or with a Mini App; None: no web server."""
        if self.web_port is None and (self.webhook_url or self.webapp_url):
            return DEFAULT_WEB_PORT
        return self.web_port

    @property
    def webapp_path(self) -> str | None:
        """The path the web server serves the Mini App at: WEBAPP_URL's; None: no Mini App."""
        return urlsplit(self.webapp_url).path.rstrip("/") if self.webapp_url else None

    def require_webhook_secret(self) -> str:
        """The webhook's secret token, or raise SettingsError saying how to set it (webhook mode needs one: without
        it anyone who learns the URL could post updates in a member's or the owner's name)."""
        if not self.webhook_secret:
            raise SettingsError(
                "WEBHOOK_SECRET is not set: webhook mode needs a secret of letters, digits, _ and - (e.g. the output "
                "of `openssl rand -hex 32`)."
            )
        return self.webhook_secret

    def require_token(self) -> str:
        """Return the bot token, or raise SettingsError saying how to set it."""
        if not self.bot_token:
            raise SettingsError("BOT_TOKEN is not set: put the token from @BotFather in .env (see .env.example).")
        try:
            validate_token(self.bot_token)
        except TokenValidationError:
            raise SettingsError(
                "BOT_TOKEN is malformed: it looks like 123456789:AAE..., copy it again from @BotFather."
            ) from None
        return self.bot_token


def _describe(issue: Mapping[str, Any]) -> str:
    """One validation problem as `NAME: what is wrong`."""
    name = ".".join(str(part) for part in issue["loc"]).upper()
    return f"{name}: {str(issue['msg']).removeprefix('Value error, ')}"


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read and validate settings, turning validation errors into one clear SettingsError."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as error:
        problems = "; ".join(_describe(issue) for issue in error.errors())
        raise SettingsError(f"Invalid configuration: {problems}") from None
