// The playground's chat page: plays one of the café's people at a time against the bot, through the JSON API under
// /play/ (see bot/playground/page.py). The chat shown is long-polled; what the person does becomes an update.
"use strict";

const state = {
  cast: [],
  texts: {},
  language: localStorage.getItem("playground.language") || "fa",
  current: Number(localStorage.getItem("playground.person")) || 0,
  version: -1, // the server's change counter when the chat shown was last read (-1: read it now)
  seen: {}, // person id -> the change counter of their chat when it was last shown
  toastsSeen: {}, // person id -> how many of their button answers were shown
  poll: null,
  chat: null,
  settleUntil: 0, // until when a chat just opened follows its newest message whatever loads
  activity: null, // person id -> the change counter of their chat, as last read
};

const $ = (id) => document.getElementById(id);
const label = (key) => (state.texts[state.language] || {})[key] || "";
const person = () => state.cast.find((one) => one.id === state.current);
const deepLinks = `${location.origin}/open/`;

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

async function post(path, body) {
  const options = { method: "POST" };
  if (body instanceof FormData) options.body = body;
  else {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body || {});
  }
  const answer = await fetch(`/play/chats/${state.current}/${path}`, options);
  if (!answer.ok) throw new Error(await answer.text());
}

// --- acting as the person ------------------------------------------------------------------------------------------

const say = (text) => post("text", { text });
const press = (messageId, data) => post("press", { message_id: messageId, data });

async function shareContact() {
  const who = person();
  if (window.confirm(label("playground.share_confirm").replace("{phone}", who.phone))) await post("contact");
}

function openLink(url) {
  if (url.startsWith(deepLinks)) {
    const start = new URL(url).searchParams.get("start");
    say(start ? `/start ${start}` : "/start");
  } else {
    window.open(url, "_blank", "noopener");
  }
}

// --- drawing ---------------------------------------------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = state.language;
  document.documentElement.dir = state.language === "fa" ? "rtl" : "ltr";
  for (const node of document.querySelectorAll("[data-label]")) node.textContent = label(node.dataset.label);
  for (const node of document.querySelectorAll("[data-title]")) node.title = label(node.dataset.title);
  for (const node of document.querySelectorAll("[data-placeholder]")) node.placeholder = label(node.dataset.placeholder);
  document.title = label("playground.title");
  $("language").textContent = state.texts.languages[state.language === "fa" ? "en" : "fa"];
  drawPeople();
  drawHead();
  if (state.chat) drawChat(state.chat, false);
}

function partOf(one) {
  const part = label(`playground.part.${one.part}`);
  return one.member || one.part !== "customer" ? part : `${part} · ${label("playground.newcomer")}`;
}

function avatar(one, node) {
  node.className = `avatar part-${one.part}`;
  node.textContent = one.name.slice(0, 1);
  return node;
}

function drawPeople(activity) {
  const list = $("people");
  list.replaceChildren();
  for (const one of state.cast) {
    const item = element("li", `person${one.id === state.current ? " current" : ""}`);
    const text = element("div", "person-text");
    text.append(element("div", "person-name", one.name), element("div", "person-part", partOf(one)));
    item.append(avatar(one, element("span")), text);
    const changed = (activity || state.activity || {})[one.id] || 0;
    if (one.id !== state.current && changed > (state.seen[one.id] || 0)) item.append(element("span", "unread"));
    item.addEventListener("click", () => choose(one.id));
    list.append(item);
  }
}

function drawHead() {
  const who = person();
  if (!who) return;
  avatar(who, $("avatar"));
  $("chat-name").textContent = who.name;
  $("chat-part").textContent = partOf(who);
}

function withLinks(text) {
  const node = element("div", "bubble-text");
  node.dir = "auto";
  for (const piece of text.split(/(https?:\/\/[^\s]+)/)) {
    if (!/^https?:\/\//.test(piece)) {
      node.append(piece);
      continue;
    }
    const link = element("a", "", piece);
    link.href = piece;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openLink(piece);
    });
    node.append(link);
  }
  return node;
}

function inlineKeyboard(message) {
  const keyboard = element("div", "inline-keyboard");
  for (const row of message.buttons) {
    const line = element("div", "inline-row");
    for (const button of row) {
      const node = element("button", "inline-button", button.text);
      node.type = "button";
      if (button.url) node.addEventListener("click", () => openLink(button.url));
      else node.addEventListener("click", () => press(message.id, button.callback_data));
      line.append(node);
    }
    keyboard.append(line);
  }
  return keyboard;
}

function bubble(message) {
  const node = element("div", `bubble${message.out ? "" : " mine"}`);
  if (message.photo) {
    const photo = element("img", "bubble-photo");
    photo.src = message.photo;
    photo.alt = "";
    photo.addEventListener("load", () => photoLoaded(photo));
    photo.addEventListener("click", () => window.open(message.photo, "_blank"));
    node.append(photo);
  }
  if (message.document) {
    const file = element("a", "bubble-file");
    file.href = message.document.url;
    file.download = message.document.name;
    file.title = label("playground.download");
    file.append(element("span", "bubble-file-icon", "⬇"), element("span", "", message.document.name));
    node.append(file);
  }
  if (message.location) {
    const where = `📍 ${message.location.title || label("playground.location")}\n${message.location.latitude}, ${message.location.longitude}`;
    node.append(withLinks(where));
  }
  if (message.contact) node.append(withLinks(`📱 ${label("playground.contact")}: ${message.contact}`));
  if (message.text) node.append(withLinks(message.text));
  if (message.buttons.length) node.append(inlineKeyboard(message));
  const time = new Intl.DateTimeFormat(state.language, { hour: "2-digit", minute: "2-digit" });
  const edited = message.edited ? `${label("playground.edited")} ` : "";
  node.append(element("div", "meta", edited + time.format(new Date(message.date * 1000))));
  return node;
}

function drawKeyboard(rows) {
  const keyboard = $("keyboard");
  keyboard.replaceChildren();
  keyboard.hidden = !rows;
  for (const row of rows || []) {
    const line = element("div", "keyboard-row");
    for (const button of row) {
      const node = element("button", `keyboard-button${button.contact ? " contact" : ""}`, button.text);
      node.type = "button";
      node.addEventListener("click", () => (button.contact ? shareContact() : say(button.text)));
      line.append(node);
    }
    keyboard.append(line);
  }
}

function drawCommands(commands) {
  const menu = $("commands");
  menu.replaceChildren();
  for (const command of commands) {
    const node = element("button", "command");
    node.type = "button";
    node.append(element("span", "command-name", `/${command.command}`), element("span", "command-about", command.description));
    node.addEventListener("click", () => {
      menu.hidden = true;
      say(`/${command.command}`);
    });
    menu.append(node);
  }
  $("menu").hidden = !commands.length;
}

function showToasts(toasts, fresh) {
  const seen = state.toastsSeen[state.current] || 0;
  for (const toast of toasts) {
    if (toast.id <= seen || !fresh) continue;
    const node = element("div", `toast${toast.alert ? " alert" : ""}`, toast.text);
    node.dir = "auto";
    $("toasts").append(node);
    if (toast.alert) node.addEventListener("click", () => node.remove());
    else setTimeout(() => node.remove(), 2500);
  }
  state.toastsSeen[state.current] = toasts.length;
}

// The bubbles drawn, by message id: one that has not changed is kept, so its photo stays loaded and the chat's
// height steady while it is drawn again.
const bubbles = new Map();

function drawn(message) {
  const key = JSON.stringify([message, state.language]);
  const kept = bubbles.get(message.id);
  if (kept && kept.key === key) return kept.node;
  const node = bubble(message);
  bubbles.set(message.id, { key, node });
  return node;
}

const fromBottom = (box) => box.scrollHeight - box.scrollTop - box.clientHeight;

// A photo that loads grows the chat: it keeps following the newest message if the reader was at the end before.
function photoLoaded(photo) {
  const box = $("messages");
  if (Date.now() < state.settleUntil || fromBottom(box) - photo.offsetHeight < 60) box.scrollTop = box.scrollHeight;
}

function drawChat(chat, fresh) {
  const box = $("messages");
  const atEnd = fromBottom(box) < 60;
  if (!fresh) state.settleUntil = Date.now() + 2000;
  drawKeyboard(chat.keyboard); // first: a keyboard coming or going changes the height the messages have
  drawCommands(chat.commands);
  box.replaceChildren(...chat.messages.map(drawn));
  box.dataset.chat = String(state.current); // whose messages these are, once drawn
  if (!chat.messages.length) box.append(element("div", "empty", label("playground.empty")));
  if (atEnd || !fresh) box.scrollTop = box.scrollHeight;
  showToasts(chat.toasts, fresh);
  state.chat = chat;
}

// --- the chat shown, long-polled -----------------------------------------------------------------------------------

function choose(id) {
  if (id === state.current) return;
  state.current = id;
  state.version = -1;
  state.chat = null;
  bubbles.clear();
  $("messages").replaceChildren(); // the last chat's messages are not shown under this one's name while it loads
  delete $("messages").dataset.chat;
  localStorage.setItem("playground.person", String(id));
  $("commands").hidden = true;
  drawPeople();
  drawHead();
  if (state.poll) state.poll.abort();
}

async function follow() {
  for (;;) {
    const id = state.current;
    const first = state.version < 0;
    state.poll = new AbortController();
    try {
      const answer = await fetch(`/play/chats/${id}?after=${state.version}`, { signal: state.poll.signal });
      if (!answer.ok) throw new Error(String(answer.status));
      const read = await answer.json();
      $("offline").hidden = true;
      $("starting").hidden = read.bot;
      if (id !== state.current) continue;
      state.version = read.version;
      if (!state.activity) Object.assign(state.seen, read.activity); // what happened before the page opened is not news
      state.seen[id] = read.activity[id] || 0;
      state.activity = read.activity;
      if (first) state.toastsSeen[id] = read.chat.toasts.length; // answers given before are not shown again
      drawChat(read.chat, !first);
      drawPeople(read.activity);
    } catch (error) {
      if (error.name === "AbortError") continue;
      $("offline").hidden = false;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

async function start() {
  const [cast, texts] = await Promise.all([fetch("/play/cast"), fetch("/play/texts")].map((asked) => asked.then((answer) => answer.json())));
  state.cast = cast;
  state.texts = texts;
  if (!person()) state.current = cast[0].id;
  $("language").addEventListener("click", () => {
    state.language = state.language === "fa" ? "en" : "fa";
    localStorage.setItem("playground.language", state.language);
    applyLanguage();
  });
  $("input-row").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("input").value.trim();
    if (!text) return;
    $("input").value = "";
    if (text.startsWith(deepLinks)) openLink(text); // a link of the bot pasted in: opened as if tapped
    else say(text);
  });
  $("menu").addEventListener("click", () => ($("commands").hidden = !$("commands").hidden));
  $("attach").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", () => {
    const chosen = $("file").files[0];
    if (!chosen) return;
    const form = new FormData();
    form.append("file", chosen, chosen.name);
    $("file").value = "";
    post("file", form);
  });
  applyLanguage();
  follow();
}

start();
