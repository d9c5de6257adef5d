"""PROXY_URL: the Bot API reached through an http, https or socks5 proxy (Telegram is filtered in Iran); a wrong
URL, an unreachable proxy or refused credentials stop the bot at start with one line saying what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram import Bot

from bot.app import check_bot_api
from bot.factory import create_bot
from bot.settings import Settings, SettingsError, load_settings
from tests.emulator import BotAPIEmulator, FakeUser
from tests.live import running_bot
from tests.proxies import TunnelProxy, self_signed
from tests.stub_bot import TOKEN

UNUSED_PORT = 9  # discard: nothing listens there


def proxied(emulator: BotAPIEmulator, proxy_url: str) -> Bot:
    settings = Settings(_env_file=None, bot_token=TOKEN, bot_api_url=emulator.url, proxy_url=proxy_url)  # type: ignore[call-arg]
    return create_bot(settings)


def emulator_address(emulator: BotAPIEmulator) -> str:
    return emulator.url.removeprefix("http://")


@pytest.mark.parametrize(
    "value",
    [
        "127.0.0.1:1080",  # no scheme
        "socks4://127.0.0.1:1080",  # not offered
        "socks5://:1080",  # no host
        "http://proxy.example",  # no port
        "socks5://127.0.0.1:port",
        "socks5://127.0.0.1:70000",
    ],
)
def test_a_wrong_proxy_url_is_named_with_its_form(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PROXY_URL", value)
    with pytest.raises(SettingsError) as refused:
        load_settings(env_file=None)
    assert "PROXY_URL: must look like http://, https:// or socks5://[user:password@]host:port" in str(refused.value)


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("", None),
        ("  ", None),
        ("http://127.0.0.1:8118", "http://127.0.0.1:8118"),
        ("https://proxy.example:443", "https://proxy.example:443"),
        (" socks5://user:p%40ss@10.0.0.2:1080 ", "socks5://user:p%40ss@10.0.0.2:1080"),
    ],
)
def test_a_proxy_url_is_read(monkeypatch: pytest.MonkeyPatch, value: str, read: str | None) -> None:
    monkeypatch.setenv("PROXY_URL", value)
    assert load_settings(env_file=None).proxy_url == read


@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_the_bot_api_is_reached_through_the_proxy(emulator: BotAPIEmulator, scheme: str) -> None:
    async with TunnelProxy(credentials=("shop", "p@ss")) as proxy:
        proxy_url = proxy.url(scheme, "shop:p%40ss")
        bot = proxied(emulator, proxy_url)
        try:
            assert await check_bot_api(bot, emulator.url, proxy_url=proxy_url) == "loyalty_test_bot"
            await bot.get_my_commands()
        finally:
            await bot.session.close()
    assert proxy.tunnels == [emulator_address(emulator)]  # one kept-alive tunnel carried both requests
    assert [call.method for call in emulator.calls] == ["getMe", "getMyCommands"]


async def test_an_https_proxy_is_spoken_to_over_tls(
    emulator: BotAPIEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls, certificate = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # the proxy's private CA, trusted on this machine
    async with TunnelProxy(credentials=("shop", "secret"), tls=tls) as proxy:
        proxy_url = proxy.url("https", "shop:secret")
        bot = proxied(emulator, proxy_url)
        try:
            assert await check_bot_api(bot, emulator.url, proxy_url=proxy_url) == "loyalty_test_bot"
        finally:
            await bot.session.close()
    assert proxy.tunnels == [emulator_address(emulator)]


async def test_an_https_proxy_with_an_untrusted_certificate_is_refused(
    emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    tls, _ = self_signed(tmp_path)
    async with TunnelProxy(tls=tls) as proxy:
        bot = proxied(emulator, proxy.url("https"))
        try:
            with pytest.raises(
                SettingsError, match=r"through the proxy at https://127\.0\.0\.1.*CERTIFICATE_VERIFY_FAILED"
            ):
                await check_bot_api(bot, emulator.url, proxy_url=proxy.url("https"))
        finally:
            await bot.session.close()
    assert proxy.tunnels == [] and emulator.calls == []


@pytest.mark.parametrize("scheme", ["http", "https", "socks5"])
async def test_an_unreachable_proxy_says_so(emulator: BotAPIEmulator, scheme: str) -> None:
    proxy_url = f"{scheme}://user:secret@127.0.0.1:{UNUSED_PORT}"
    bot = proxied(emulator, proxy_url)
    try:
        with pytest.raises(SettingsError) as refused:
            await check_bot_api(bot, emulator.url, proxy_url=proxy_url)
    finally:
        await bot.session.close()
    message = str(refused.value)
    assert message.startswith(
        f"Cannot reach the Bot API at {emulator.url} through the proxy at {scheme}://user:***@127.0.0.1:{UNUSED_PORT}"
    )
    assert message.endswith("check PROXY_URL and that the proxy is running.")
    assert "secret" not in message and emulator.calls == []


@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_credentials_the_proxy_refuses_say_so(emulator: BotAPIEmulator, scheme: str) -> None:
    async with TunnelProxy(credentials=("shop", "right")) as proxy:
        proxy_url = proxy.url(scheme, "shop:wrong")
        bot = proxied(emulator, proxy_url)
        try:
            with pytest.raises(SettingsError, match=r"through the proxy at .*: check PROXY_URL"):
                await check_bot_api(bot, emulator.url, proxy_url=proxy_url)
        finally:
            await bot.session.close()
    assert proxy.refused == 1 and proxy.tunnels == [] and emulator.calls == []


async def test_the_running_bot_polls_and_answers_through_the_proxy(
    emulator: BotAPIEmulator, settings: Settings, database_url: str
) -> None:
    async with (
        TunnelProxy() as proxy,
        running_bot(emulator, settings, database_url=database_url, proxy_url=proxy.url("socks5")),
    ):
        [welcome] = await FakeUser(emulator, 501, "Sara", "en").say("/start")
        assert welcome.requests_contact()
    assert proxy.tunnels and set(proxy.tunnels) == {emulator_address(emulator)}
