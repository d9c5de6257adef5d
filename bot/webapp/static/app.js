// The Mini App's page: reads the messenger's initData (window.Telegram.WebApp when its script is there, else the
// URL fragment #tgWebAppData=… the messenger opens the page with) and theme, then asks the bot's API with
// `Authorization: tma <initData>`. Every text comes from the API, in the member's language. The staff's tabs are
// staff.js's, on what this script shares as window.MiniApp.
"use strict";

(() => {
  const launch = new URLSearchParams(window.location.hash.slice(1));
  const telegram = window.Telegram && window.Telegram.WebApp;
  const initData = (telegram && telegram.initData) || launch.get("tgWebAppData") || "";
  const $ = (id) => document.getElementById(id);
  let texts = {};
  let historyPage = 0;

  function parsed(json) {
    try {
      return JSON.parse(json || "{}");
    } catch (error) {
      return {};
    }
  }

  // Telegram's events to its client: on phones through a proxy object, on the web through the parent frame
  function postEvent(type, data) {
    const payload = JSON.stringify(data || {});
    if (window.TelegramWebviewProxy) {
      window.TelegramWebviewProxy.postEvent(type, payload);
    } else if (window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), "*");
    }
  }

  function applyTheme() {
    const theme = (telegram && telegram.themeParams) || parsed(launch.get("tgWebAppThemeParams"));
    const colours = {
      bg_color: "--bg",
      text_color: "--text",
      hint_color: "--hint",
      link_color: "--link",
      button_color: "--button",
      button_text_color: "--button-text",
      secondary_bg_color: "--surface",
    };
    for (const [name, variable] of Object.entries(colours)) {
      if (theme[name]) document.documentElement.style.setProperty(variable, theme[name]);
    }
  }

  const UNAUTHORIZED = 401; // the initData is refused: asking again with it cannot help, reopening from the bot can

  class Refused extends Error {
    constructor(message, status, body) {
      super(message);
      this.status = status; // the API's HTTP status; 0 when it was not reached
      this.body = body || {};
    }
  }

  async function api(path, options) {
    const headers = { Authorization: "tma " + initData, "Content-Type": "application/json" };
    let response;
    try {
      response = await fetch("api/" + path, Object.assign({ headers }, options));
    } catch (error) {
      throw new Refused(texts["webapp.retry"] || "…", 0);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Refused(body.message || String(response.status), response.status, body);
    return body;
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  function status(message, canRetry) {
    $("status").hidden = !message;
    $("status-text").textContent = message || "";
    $("retry").hidden = !canRetry;
  }

  function fillTexts(page) {
    texts = page.texts;
    document.documentElement.lang = page.language;
    document.documentElement.dir = page.rtl ? "rtl" : "ltr";
    document.title = texts["webapp.title"];
    for (const node of document.querySelectorAll("[data-text]")) node.textContent = texts[node.dataset.text];
    for (const node of document.querySelectorAll("[data-placeholder]")) node.placeholder = texts[node.dataset.placeholder];
  }

  const views = {
    async card() {
      const card = await api("card");
      $("card-qr").src = card.qr;
      $("card-qr").alt = card.code;
      $("card-code").textContent = card.code;
      $("card-caption").textContent = card.caption;
    },
    async points() {
      const balance = await api("balance");
      $("points").textContent = balance.points;
      $("tier").textContent = balance.tier;
      $("bar").style.width = balance.percent + "%";
      $("bar").parentElement.setAttribute("aria-valuenow", balance.percent);
      $("progress").textContent = balance.progress;
      $("balance-text").textContent = balance.text;
    },
    async history() {
      historyPage = 0;
      $("history").replaceChildren();
      await moreHistory();
    },
    async rewards() {
      const found = await api("rewards");
      $("rewards-title").textContent = found.title;
      const box = $("rewards");
      box.replaceChildren();
      if (!found.affordable.length && !found.close.length) box.append(element("p", "hint", found.empty));
      if (found.affordable.length) box.append(element("p", "group-title", found.affordable_title));
      for (const offer of found.affordable) box.append(rewardItem(offer));
      if (found.close.length) box.append(element("p", "group-title", found.close_title));
      for (const offer of found.close) box.append(rewardItem(offer));
    },
    async vouchers() {
      const found = await api("vouchers");
      const box = $("vouchers");
      box.replaceChildren();
      if (!found.groups.length) box.append(element("p", "hint", found.empty));
      for (const group of found.groups) {
        box.append(element("p", "group-title", group.title));
        for (const voucher of group.vouchers) box.append(voucherItem(voucher));
      }
    },
  };

  async function moreHistory() {
    const page = await api("history?page=" + historyPage);
    const list = $("history");
    if (!page.entries.length && historyPage === 0) list.append(element("li", "hint", page.empty));
    for (const entry of page.entries) {
      const row = element("li");
      const text = element("div");
      text.append(element("div", "", entry.label), element("div", "hint", entry.when));
      row.append(text, element("bdi", entry.points > 0 ? "plus" : "minus", entry.amount));
      list.append(row);
    }
    historyPage += 1;
    $("older").hidden = historyPage >= page.pages;
  }

  function voucherItem(voucher) {
    const item = element("div", "item");
    item.append(element("h3", "", voucher.title), element("p", "", voucher.worth));
    if (voucher.qr) {
      const qr = element("img", "qr");
      qr.src = voucher.qr;
      qr.alt = voucher.code;
      item.append(qr, element("p", "code", voucher.code));
    }
    item.append(element("p", "hint", voucher.status));
    return item;
  }

  function rewardItem(offer) {
    const item = element("div", "item");
    item.append(element("p", "pre", offer.detail));
    if (!offer.question) return item;
    const redeem = element("button", "", offer.redeem);
    redeem.type = "button";
    redeem.addEventListener("click", () => ask(item, offer, redeem));
    item.append(redeem);
    return item;
  }

  function ask(item, offer, redeem) {
    redeem.hidden = true;
    const question = element("div", "message");
    const yes = element("button", "", texts["webapp.redeem"]);
    const no = element("button", "secondary", texts["webapp.cancel"]);
    const actions = element("div", "actions");
    actions.append(yes, no);
    question.append(element("p", "pre", offer.question), actions);
    item.append(question);
    no.addEventListener("click", () => {
      question.remove();
      redeem.hidden = false;
    });
    yes.addEventListener("click", async () => {
      yes.disabled = no.disabled = true;
      const body = JSON.stringify({ seen: offer.seen, terms: offer.terms });
      try {
        const redeemed = await api("rewards/" + offer.id + "/redeem", { method: "POST", body });
        question.replaceChildren(
          element("p", "pre", redeemed.message + "\n" + redeemed.balance),
          voucherItem(redeemed.voucher),
        );
      } catch (error) {
        question.replaceChildren(element("p", "pre", error.message));
      }
    });
  }

  async function show(name) {
    for (const tab of document.querySelectorAll("#tabs button")) {
      tab.setAttribute("aria-current", tab.dataset.view === name ? "page" : "false");
    }
    for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== "view-" + name;
    status(texts["webapp.loading"], false);
    try {
      await views[name]();
      status("", false);
    } catch (error) {
      for (const view of document.querySelectorAll(".view")) view.hidden = true;
      status(error.message, error.status !== UNAUTHORIZED);
    }
  }

  async function start() {
    applyTheme();
    postEvent("web_app_ready");
    postEvent("web_app_expand");
    try {
      fillTexts(await api("texts"));
    } catch (error) {
      status(error.message, error.status !== UNAUTHORIZED);
      return;
    }
    $("tabs").hidden = false;
    const first = window.MiniApp.onStart ? await window.MiniApp.onStart() : null;
    await show(first || "card");
  }

  for (const tab of document.querySelectorAll("#tabs button")) {
    tab.addEventListener("click", () => show(tab.dataset.view));
  }
  $("older").addEventListener("click", () => moreHistory().catch((error) => status(error.message, true)));
  $("retry").addEventListener("click", () => (Object.keys(texts).length ? show(currentView()) : start()));

  function currentView() {
    const open = document.querySelector("#tabs button[aria-current='page']");
    return open ? open.dataset.view : "card";
  }

  // what the staff's script (staff.js) builds on: it adds its views and, at start, shows the staff tabs
  window.MiniApp = { api, element, views, show, status, Refused, text: (key) => texts[key], initData };
  document.addEventListener("DOMContentLoaded", start);
})();
