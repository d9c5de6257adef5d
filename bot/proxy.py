"""The Bot API reached through `PROXY_URL`, as Telegram is filtered in Iran: http://, https:// (TLS to the proxy) or
socks5://, with an optional user:password; the proxy resolves the Bot API's name, as local DNS may be poisoned.

aiogram's own `proxy=` takes http and socks5 only and drops the session's TLS settings, so `ProxiedSession` builds
aiohttp-socks' connector itself, and turns the proxy's failures into the network errors the rest of the bot (start-up
checks, polling, the sender's retries) already handles."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import certifi
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp_socks import ProxyConnectionError, ProxyConnector, ProxyError, ProxyTimeoutError, ProxyType

from bot.updates import TolerantSession

PROXY_TYPES = {"http": ProxyType.HTTP, "https": ProxyType.HTTP, "socks5": ProxyType.SOCKS5}
PROXY_FAILURES = (ProxyConnectionError, ProxyError, ProxyTimeoutError)


def connector_arguments(url: str) -> dict[str, Any]:
    """aiohttp-socks' ProxyConnector arguments for a PROXY_URL (checked by `bot.settings`)."""
    parts = urlsplit(url)
    return {
        "proxy_type": PROXY_TYPES[parts.scheme],
        "host": parts.hostname,
        "port": parts.port,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "rdns": True,
        "proxy_ssl": proxy_tls() if parts.scheme == "https" else None,
    }


def proxy_tls() -> ssl.SSLContext:
    """TLS to an https:// proxy: its certificate checked against certifi's CAs and the system's (with SSL_CERT_FILE),
    where a private proxy's CA is installed."""
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_default_certs()
    return context


def shown(url: str) -> str:
    """The PROXY_URL fit for a log or an error: its password hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{parts.netloc.rpartition('@')[2]}"))


class ProxiedSession(TolerantSession):
    """The bot's session (`TolerantSession`) with every request sent through the proxy at `PROXY_URL`."""

    def _setup_proxy_connector(self, proxy: Any) -> None:
        """aiogram's hook for `proxy=`: our connector, keeping the session's TLS context and connection limit."""
        self._connector_type = ProxyConnector
        self._connector_init = {**self._connector_init, **connector_arguments(proxy)}
        self._proxy = proxy

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        """Send the request; a proxy that cannot be reached or refuses us is a network error, as a lost network is."""
        try:
            return await super().make_request(bot, method, timeout)
        except PROXY_FAILURES as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
