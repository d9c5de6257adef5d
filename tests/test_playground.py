"""The playground (`loyalty-bot demo`): its Bot API server answers the methods the bot calls as Telegram does and
keeps every chat; the page's JSON API shows a chat as the bot left it and turns a person's actions into updates;
the demo runs the real bot over it, so a newcomer joins and the cashier's purchase shows in their balance."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.playground.cast import ALI, CASHIER, SARA
from bot.playground.chats import BOT_TOKEN, BOT_USER, Chats
from bot.playground.demo import demo_settings, prepare_database
from bot.playground.page import LABELS
from bot.settings import Settings
from tests.commands import one_line
from tests.live import free_port
from tests.playground import (
    bot_call,
    demo,
    keyboard_labels,
    playground_client,
    stub_seed,
    texts_of,
    until_the_bot_polls,
)

Client = aiohttp.ClientSession
BUTTONS = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}, {"text": "Site", "url": "http://shop.test"}]]}


@pytest.fixture
async def playground() -> AsyncIterator[tuple[Chats, Client]]:
    async with playground_client() as pair:
        yield pair


async def chat_of(client: Client, person_id: int) -> dict[str, Any]:
    async with client.get(f"/play/chats/{person_id}") as answer:
        body: dict[str, Any] = await answer.json()
        return dict(body["chat"])


# --- the Bot API --------------------------------------------------------------------------------------------------


async def test_get_me_names_the_bot_of_the_token(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    assert await bot_call(client, "getMe") == {"ok": True, "result": BOT_USER}


async def test_another_token_is_unauthorized(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    async with client.post("/bot123:other/getMe") as answer:
        assert answer.status == 401


async def test_an_unknown_method_is_not_found(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    assert (await bot_call(client, "sendSticker", chat_id=SARA.telegram_id))["error_code"] == 404


async def test_a_message_with_inline_buttons_shows_in_the_persons_chat(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    sent = await bot_call(client, "sendMessage", chat_id=SARA.telegram_id, text="Hello", reply_markup=BUTTONS)
    [shown] = (await chat_of(client, SARA.telegram_id))["messages"]
    assert sent["result"]["reply_markup"] == BUTTONS
    assert (shown["out"], shown["text"]) == (True, "Hello")
    assert shown["buttons"] == [[{"text": "Yes", "callback_data": "yes"}, {"text": "Site", "url": "http://shop.test"}]]


async def test_a_reply_keyboard_asking_for_the_contact_shows_under_the_input(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    keyboard = {"keyboard": [[{"text": "Share", "request_contact": True}], [{"text": "Later"}]]}
    await bot_call(client, "sendMessage", chat_id=ALI.telegram_id, text="Your phone?", reply_markup=keyboard)
    chat = await chat_of(client, ALI.telegram_id)
    assert chat["keyboard"] == [[{"text": "Share", "contact": True}], [{"text": "Later", "contact": False}]]


async def test_a_removed_reply_keyboard_is_gone(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    await bot_call(
        client, "sendMessage", chat_id=ALI.telegram_id, text="a", reply_markup={"keyboard": [[{"text": "x"}]]}
    )
    await bot_call(client, "sendMessage", chat_id=ALI.telegram_id, text="b", reply_markup={"remove_keyboard": True})
    assert (await chat_of(client, ALI.telegram_id))["keyboard"] is None


async def test_a_one_time_keyboard_goes_once_the_person_answers(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    keyboard = {"keyboard": [[{"text": "Share", "request_contact": True}]], "one_time_keyboard": True}
    await bot_call(client, "sendMessage", chat_id=ALI.telegram_id, text="Your phone?", reply_markup=keyboard)
    async with client.post(f"/play/chats/{ALI.telegram_id}/contact"):
        pass
    assert (await chat_of(client, ALI.telegram_id))["keyboard"] is None


async def test_an_uploaded_photo_is_served_to_the_page(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    form = aiohttp.FormData()
    form.add_field("chat_id", str(SARA.telegram_id))
    form.add_field("caption", "Your card")
    form.add_field("photo", "attach://card")
    form.add_field("card", b"\x89PNG-card", filename="card-1.png")
    async with client.post(f"/bot{BOT_TOKEN}/sendPhoto", data=form) as answer:
        assert (await answer.json())["ok"]
    [shown] = (await chat_of(client, SARA.telegram_id))["messages"]
    async with client.get(shown["photo"]) as photo:
        assert (shown["text"], photo.content_type, await photo.read()) == ("Your card", "image/png", b"\x89PNG-card")


async def test_a_document_is_downloaded_under_its_name(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    form = aiohttp.FormData()
    form.add_field("chat_id", str(SARA.telegram_id))
    form.add_field("document", b"phone,name\n", filename="members.csv")
    async with client.post(f"/bot{BOT_TOKEN}/sendDocument", data=form) as answer:
        file_id = (await answer.json())["result"]["document"]["file_id"]
    [shown] = (await chat_of(client, SARA.telegram_id))["messages"]
    async with client.get(shown["document"]["url"]) as download:
        assert shown["document"]["name"] == "members.csv"
        assert "members.csv" in download.headers["Content-Disposition"]
    file = await bot_call(client, "getFile", file_id=file_id)
    async with client.get(f"/file/bot{BOT_TOKEN}/{file['result']['file_path']}") as fetched:
        assert await fetched.read() == b"phone,name\n"


async def test_an_edit_changes_the_message_in_place(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    sent = await bot_call(client, "sendMessage", chat_id=SARA.telegram_id, text="Sending 1/2", reply_markup=BUTTONS)
    message_id = sent["result"]["message_id"]
    await bot_call(client, "editMessageText", chat_id=SARA.telegram_id, message_id=message_id, text="Sent 2/2")
    [shown] = (await chat_of(client, SARA.telegram_id))["messages"]
    assert (shown["text"], shown["buttons"], shown["edited"]) == ("Sent 2/2", [], True)


async def test_an_edit_that_changes_nothing_is_refused_as_telegram_refuses_it(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    sent = await bot_call(client, "sendMessage", chat_id=SARA.telegram_id, text="Same")
    same = {"chat_id": SARA.telegram_id, "message_id": sent["result"]["message_id"], "text": "Same"}
    refused = await bot_call(client, "editMessageText", **same)
    assert refused["description"] == "Bad Request: message is not modified"


async def test_a_deleted_message_leaves_the_chat(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    sent = await bot_call(client, "sendMessage", chat_id=SARA.telegram_id, text="Soon gone")
    await bot_call(client, "deleteMessage", chat_id=SARA.telegram_id, message_id=sent["result"]["message_id"])
    assert (await chat_of(client, SARA.telegram_id))["messages"] == []


async def test_what_a_person_says_reaches_the_bot_once(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    async with client.post(f"/play/chats/{SARA.telegram_id}/text", json={"text": "/balance"}) as answer:
        assert answer.status == 200
    [update] = (await bot_call(client, "getUpdates", timeout=1))["result"]
    confirmed = await bot_call(client, "getUpdates", offset=update["update_id"] + 1, timeout=0)
    message = update["message"]
    assert (message["from"]["id"], message["text"], message["entities"][0]["type"]) == (
        SARA.telegram_id,
        "/balance",
        "bot_command",
    )
    assert confirmed["result"] == []


async def test_a_long_poll_is_answered_when_the_person_speaks(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    polling = asyncio.ensure_future(bot_call(client, "getUpdates", timeout=10))
    await asyncio.sleep(0.1)
    async with client.post(f"/play/chats/{SARA.telegram_id}/text", json={"text": "hi"}):
        pass
    answered = await asyncio.wait_for(polling, 2)
    assert [update["message"]["text"] for update in answered["result"]] == ["hi"]


async def test_sharing_the_contact_sends_the_persons_own_phone(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    async with client.post(f"/play/chats/{ALI.telegram_id}/contact"):
        pass
    [update] = (await bot_call(client, "getUpdates"))["result"]
    assert update["message"]["contact"] == {"phone_number": ALI.phone, "first_name": ALI.first_name, "user_id": 7004}


async def test_a_pressed_button_reaches_the_bot_and_its_answer_shows_as_a_toast(
    playground: tuple[Chats, Client],
) -> None:
    _, client = playground
    sent = await bot_call(client, "sendMessage", chat_id=SARA.telegram_id, text="Sure?", reply_markup=BUTTONS)
    pressed = {"message_id": sent["result"]["message_id"], "data": "yes"}
    async with client.post(f"/play/chats/{SARA.telegram_id}/press", json=pressed):
        pass
    [update] = (await bot_call(client, "getUpdates"))["result"]
    query = update["callback_query"]
    await bot_call(client, "answerCallbackQuery", callback_query_id=query["id"], text="Done")
    assert (query["data"], query["message"]["text"], query["from"]["id"]) == ("yes", "Sure?", SARA.telegram_id)
    assert [toast["text"] for toast in (await chat_of(client, SARA.telegram_id))["toasts"]] == ["Done"]


async def test_a_file_from_the_page_reaches_the_bot_as_a_document(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    form = aiohttp.FormData()
    form.add_field("file", b"phone\n09121234567\n", filename="list.csv", content_type="text/csv")
    async with client.post(f"/play/chats/{SARA.telegram_id}/file", data=form):
        pass
    [update] = (await bot_call(client, "getUpdates"))["result"]
    document = update["message"]["document"]
    file = await bot_call(client, "getFile", file_id=document["file_id"])
    async with client.get(f"/file/bot{BOT_TOKEN}/{file['result']['file_path']}") as fetched:
        assert (document["file_name"], await fetched.read()) == ("list.csv", b"phone\n09121234567\n")


async def test_the_page_tells_whether_the_bot_has_started_polling(playground: tuple[Chats, Client]) -> None:
    _, client = playground

    async def started() -> bool:
        async with client.get(f"/play/chats/{SARA.telegram_id}") as answer:
            return bool((await answer.json())["bot"])

    before = await started()
    await bot_call(client, "getUpdates", timeout=0)
    assert (before, await started()) == (False, True)


async def test_the_page_knows_only_the_cast(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    async with client.get("/play/chats/12345") as answer:
        assert answer.status == 404


async def test_the_staffs_command_menu_is_their_chats_own(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    everyone, staff = [{"command": "balance", "description": "b"}], [{"command": "earn", "description": "e"}]
    await bot_call(client, "setMyCommands", commands=everyone, language_code="fa")
    scope = {"type": "chat", "chat_id": CASHIER.telegram_id}
    await bot_call(client, "setMyCommands", commands=staff, scope=scope, language_code="fa")
    assert (await chat_of(client, CASHIER.telegram_id))["commands"] == staff
    assert (await chat_of(client, SARA.telegram_id))["commands"] == everyone


# --- the page --------------------------------------------------------------------------------------------------------


async def test_the_page_and_its_files_are_served(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    for path in ("/", "/static/chat.js", "/static/style.css", "/static/vazirmatn.ttf"):
        async with client.get(path) as answer:
            assert answer.status == 200, path


async def test_the_pages_labels_come_in_persian_and_english(playground: tuple[Chats, Client]) -> None:
    _, client = playground
    async with client.get("/play/texts") as answer:
        texts = await answer.json()
    assert set(texts["fa"]) == set(texts["en"]) == set(LABELS)
    assert texts["fa"]["playground.send"] != texts["en"]["playground.send"]


# --- the demo --------------------------------------------------------------------------------------------------------


async def test_the_cafe_is_seeded_the_first_time_and_again_on_reset(tmp_path: Path) -> None:
    seeded: list[str] = []

    async def counting_seed(engine: Any, settings: Settings) -> None:
        seeded.append(str(engine.url))

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    made = [
        await prepare_database(settings, tmp_path, reset=reset, seed=counting_seed) for reset in (False, False, True)
    ]
    assert made == [True, False, True]
    assert len(seeded) == 2 and (tmp_path / "cafe.db").exists()


async def test_a_newcomer_joins_and_the_cashiers_purchase_shows_in_their_balance(tmp_path: Path) -> None:
    async with demo(tmp_path) as page:
        await page.say(ALI, "/start")
        asked = await page.chat(ALI)
        await page.act(ALI, "contact")
        await page.say(ALI, ALI.first_name)
        for _ in range(3):  # birthday, gender, news: not now
            skip = keyboard_labels(await page.chat(ALI))[-1]
            joined = await page.say(ALI, skip)
        before = texts_of(await page.say(ALI, "/balance"))
        await page.say(CASHIER, f"/earn {ALI.phone} 250000")
        after = texts_of(await page.say(ALI, "/balance"))
    assert keyboard_labels(asked, lambda button: bool(button["contact"]))
    assert "۱۰۰" in texts_of(joined)
    assert "۱۰۰" in before and "۱۲۵" in after


def test_the_demo_command_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--data", str(tmp_path)]
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot serve the playground on port {port}" in one_line(result.stderr)


async def test_the_demo_command_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    await prepare_database(demo_settings(port, tmp_path), tmp_path, reset=False, seed=stub_seed)
    command = ["-m", "bot.cli", "demo", "--port", str(port), "--data", str(tmp_path)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        await until_the_bot_polls(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0
    assert "SIGTERM: stopping" in log.decode() and "Traceback" not in log.decode()
