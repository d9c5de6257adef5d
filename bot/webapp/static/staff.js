// The staff's tabs of the Mini App, on what app.js shares (window.MiniApp): Reports (the figures of /report with
// charts drawn here as inline SVG, and the exports to download) for managers and owners, Members (search, a member's
// page, recording a purchase, undo and adjust as the role allows) for all staff. Which tabs show is the server's
// answer to staff/whoami; every route checks the role again. Every text and number comes written from the server.
"use strict";

(() => {
  const app = window.MiniApp;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const rtl = () => document.documentElement.dir === "rtl";
  let staff = null;
  let menu = null;
  let report = "sales";
  let period = "today";
  let openMember = null;

  function svg(tag, attributes) {
    const made = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) made.setAttribute(name, value);
    return made;
  }

  function button(text, className, onClick) {
    const made = app.element("button", className, text);
    made.type = "button";
    made.addEventListener("click", onClick);
    return made;
  }

  // a form's key: the same key sent twice is one change on the server, as one update is in the chat
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  // a sentence in the member page's answer box (what an action did, or why not), shown
  function tell(answer, text, ...more) {
    answer.replaceChildren(app.element("p", "pre", text), ...more);
    answer.hidden = false;
  }

  function post(path, body) {
    return app.api(path, { method: "POST", body: JSON.stringify(body || {}) });
  }

  // --- tooltips: shown on hover and on tap, beside the pointer and within the view ------------------------------
  // a mouse leaving the shape hides its tooltip; a finger lifting does not (it would vanish as it is read), a tap
  // beside the shapes does

  function withTooltip(shape, text) {
    const tip = $("tooltip");
    const show = (event) => {
      tip.textContent = text;
      tip.hidden = false;
      const box = $("view-reports").getBoundingClientRect();
      const left = event.clientX - box.left - tip.offsetWidth / 2;
      tip.style.left = Math.max(0, Math.min(left, box.width - tip.offsetWidth)) + "px";
      tip.style.top = event.clientY - box.top - tip.offsetHeight - 12 + "px";
    };
    shape.dataset.tip = "";
    shape.addEventListener("pointerenter", show);
    shape.addEventListener("pointerdown", show);
    shape.addEventListener("pointerleave", (event) => {
      if (event.pointerType === "mouse") tip.hidden = true;
    });
    const title = svg("title");
    title.textContent = text;
    shape.append(title);
  }

  // --- charts ------------------------------------------------------------------------------------------------------

  // bars of `items` ({label, value, tip}); right to left in Persian, so the first day is on the right
  function barChart(title, items) {
    const width = 340;
    const height = 180;
    const base = 150;
    const side = 20; // room for the first and last labels
    const top = Math.max(1, ...items.map((item) => item.value));
    const step = (width - 2 * side) / Math.max(items.length, 1);
    const every = Math.ceil(items.length / 7);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
    chart.append(svg("line", { x1: 0, x2: width, y1: base, y2: base, class: "axis" }));
    items.forEach((item, index) => {
      const place = rtl() ? items.length - 1 - index : index;
      const tall = ((base - 10) * item.value) / top;
      const bar = svg("rect", {
        x: side + place * step + step * 0.15,
        y: base - tall,
        width: step * 0.7,
        height: Math.max(tall, item.value ? 1 : 0),
        class: "bar-shape",
        tabindex: 0,
      });
      withTooltip(bar, item.tip);
      chart.append(bar);
      if (index % every === 0) {
        const label = svg("text", { x: side + place * step + step / 2, y: base + 18, class: "tick" });
        label.textContent = item.label;
        chart.append(label);
      }
    });
    return figure(title, chart);
  }

  // the purchases by weekday (rows, in the reader's week) and hour (columns, right to left in Persian)
  function heatmap(hours) {
    const cell = 13;
    const left = 56;
    const width = left + 24 * cell;
    const most = Math.max(1, ...hours.counts.flat());
    const chart = svg("svg", { viewBox: `0 0 ${width} ${7 * cell + 16}`, class: "chart", role: "img" });
    hours.counts.forEach((row, day) => {
      const name = svg("text", { x: rtl() ? width - 2 : 2, y: day * cell + cell - 3, class: "tick day" });
      name.textContent = hours.weekdays[day];
      chart.append(name);
      row.forEach((count, hour) => {
        const column = rtl() ? 23 - hour : hour;
        const x = (rtl() ? 0 : left) + column * cell;
        const square = svg("rect", {
          x,
          y: day * cell,
          width: cell - 1,
          height: cell - 1,
          class: "heat",
          "fill-opacity": 0.08 + (0.92 * count) / most,
        });
        withTooltip(square, `${hours.weekdays[day]} ${hours.hours[hour]}: ${hours.written[day][hour]}`);
        chart.append(square);
      });
    });
    for (const hour of [0, 6, 12, 18]) {
      const column = rtl() ? 23 - hour : hour;
      const label = svg("text", { x: (rtl() ? 0 : left) + column * cell, y: 7 * cell + 12, class: "tick" });
      label.textContent = hours.hours[hour];
      chart.append(label);
    }
    return figure(hours.title, chart);
  }

  function figure(title, chart) {
    const box = app.element("figure", "chart-box");
    box.append(app.element("figcaption", "hint", title), chart);
    return box;
  }

  // --- reports ---------------------------------------------------------------------------------------------------

  function chips(box, choices, chosen, onPick) {
    box.replaceChildren();
    for (const choice of choices) {
      const chip = button(choice.label, choice.name === chosen ? "" : "secondary", () => onPick(choice.name));
      box.append(chip);
    }
  }

  function drawMenu() {
    chips($("report-names"), menu.reports, report, (name) => {
      report = name;
      app.show("reports");
    });
    const periods = menu.periods.concat([{ name: "custom", label: menu.custom }]);
    const chosen = period.startsWith("r") ? "custom" : period;
    chips($("period-names"), periods, chosen, (name) => {
      if (name === "custom") {
        $("range-question").hidden = $("range-form").hidden = false;
        return;
      }
      period = name;
      app.show("reports");
    });
    $("range-question").textContent = menu.range_question;
  }

  function drawReport(found) {
    period = found.period;
    drawMenu();
    $("range-question").hidden = $("range-form").hidden = !period.startsWith("r");
    const charts = $("report-charts");
    charts.replaceChildren();
    if (found.chart) {
      const days = found.chart.days.map((day) => ({
        label: day.label,
        value: day.total,
        tip: `${day.date}: ${day.total_text} · ${day.purchases_text}`,
      }));
      charts.append(barChart(found.chart.title, days));
    }
    if (found.bands) {
      const bands = found.bands.bands.map((band) => ({
        label: band.label,
        value: band.count,
        tip: `${band.label}: ${band.count_text}`,
      }));
      charts.append(barChart(found.bands.title, bands));
    }
    if (found.hours) charts.append(heatmap(found.hours));
    $("report-text").textContent = found.text;
    const members = $("report-members");
    members.replaceChildren();
    for (const member of found.members || []) {
      members.append(button(member.name, "secondary", () => findMember(member.code)));
    }
  }

  async function drawExports() {
    const box = $("exports");
    if (!staff.may.exports || box.childElementCount) return;
    const offered = await app.api("staff/exports");
    box.append(app.element("p", "group-title", offered.title));
    for (const table of offered.tables) {
      const row = app.element("div", "actions");
      row.append(app.element("span", "grow", table.label));
      for (const form of offered.formats) {
        row.append(button(form.label, "secondary", () => download(table.name + "." + form.name)));
      }
      box.append(row);
    }
  }

  // the file fetched with the page's initData and handed to the browser under the name the server gave it
  async function download(name) {
    app.status(app.text("webapp.loading"), false);
    try {
      const response = await fetch("api/staff/exports/" + name, { headers: { Authorization: "tma " + app.initData } });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new app.Refused(body.message || String(response.status), response.status, body);
      }
      const disposition = response.headers.get("Content-Disposition") || "";
      const link = app.element("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = (disposition.match(/filename="([^"]+)"/) || [])[1] || name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      app.status("", false);
    } catch (error) {
      app.status(error.message, false);
    }
  }

  async function reportsView(query) {
    if (!menu) menu = await app.api("staff/reports");
    drawMenu();
    const asked = query || "period=" + encodeURIComponent(period);
    drawReport(await app.api("staff/reports/" + report + "?" + asked));
    await drawExports();
  }

  // --- members ---------------------------------------------------------------------------------------------------

  async function search(text) {
    const found = await app.api("staff/members?q=" + encodeURIComponent(text));
    const list = $("found");
    list.replaceChildren();
    $("member").hidden = true;
    list.hidden = false;
    if (!found.members.length) list.append(app.element("li", "hint", app.text("webapp.no_members")));
    for (const member of found.members) {
      const row = app.element("li", "clickable");
      const who = app.element("div");
      who.append(app.element("div", "", member.name), app.element("bdi", "hint", member.code + " · " + member.phone));
      const standing = app.element("div");
      standing.append(app.element("div", "plus", member.points), app.element("div", "hint", member.tier));
      row.append(who, standing);
      row.addEventListener("click", () => showMember(member.id).catch((error) => app.status(error.message, true)));
      list.append(row);
    }
  }

  function findMember(code) {
    $("search").value = code;
    openMember = null;
    app.show("members").then(() => search(code));
  }

  function field(type, placeholder) {
    const input = app.element("input");
    input.type = type;
    input.placeholder = placeholder;
    return input;
  }

  function recordForm(member, answer) {
    const form = app.element("form", "item");
    const amount = field("text", app.text("webapp.amount"));
    amount.inputMode = "numeric";
    amount.required = true;
    const receipt = field("text", app.text("webapp.receipt"));
    const payment = app.element("select");
    payment.append(new Option(app.text("webapp.payment_unsaid"), ""));
    for (const method of member.payments) payment.append(new Option(method.label, method.name));
    const submit = app.element("button", "", app.text("button.record_purchase"));
    form.append(amount, receipt, payment, submit);
    let key = newKey();
    const send = async (confirm) => {
      submit.disabled = true;
      const body = { amount: amount.value, receipt: receipt.value, payment: payment.value, key, confirm };
      try {
        const recorded = await post(`staff/members/${member.id}/purchases`, body);
        key = newKey();
        await showMember(member.id, recorded.message);
      } catch (error) {
        const confirm = error.body.error === "confirm_amount";
        tell(answer, error.message, ...(confirm ? [button(app.text("webapp.confirm_record"), "", () => send(true))] : []));
      } finally {
        submit.disabled = false;
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send(false);
    });
    return form;
  }

  function adjustForm(member, answer) {
    const form = app.element("form", "item");
    const points = field("text", app.text("webapp.adjust_points"));
    const reason = field("text", app.text("webapp.adjust_reason"));
    points.required = reason.required = true;
    form.append(app.element("p", "group-title", app.text("webapp.adjust_title")), points, reason);
    form.append(app.element("button", "", app.text("webapp.adjust")));
    let key = newKey();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const adjusted = await post(`staff/members/${member.id}/adjust`, { points: points.value, reason: reason.value, key });
        key = newKey();
        await showMember(member.id, adjusted.message);
      } catch (error) {
        tell(answer, error.message);
      }
    });
    return form;
  }

  function purchaseList(member, answer) {
    const list = app.element("ul", "list");
    for (const purchase of member.purchases) {
      const row = app.element("li");
      row.append(app.element("span", "pre", purchase.line));
      if (member.may.undo && !purchase.undone) {
        row.append(
          button(app.text("button.undo"), "secondary", async () => {
            try {
              const undone = await post(`staff/purchases/${purchase.id}/undo`);
              await showMember(member.id, undone.message);
            } catch (error) {
              tell(answer, error.message);
            }
          }),
        );
      }
      list.append(row);
    }
    return list;
  }

  async function showMember(id, news) {
    const member = await app.api("staff/members/" + id);
    openMember = id;
    const box = $("member");
    const answer = app.element("div", "message");
    answer.hidden = true;
    if (news) tell(answer, news);
    box.replaceChildren(
      button(app.text("webapp.back"), "secondary", () => {
        openMember = null;
        box.hidden = true;
        $("found").hidden = false;
      }),
      app.element("p", "pre item", member.text),
      answer,
      recordForm(member, answer),
    );
    if (member.may.adjust) box.append(adjustForm(member, answer));
    if (member.purchases.length) {
      box.append(app.element("p", "group-title", app.text("button.recent_purchases")), purchaseList(member, answer));
    }
    $("found").hidden = true;
    box.hidden = false;
  }

  async function membersView() {
    if (openMember) await showMember(openMember);
  }

  // --- start -------------------------------------------------------------------------------------------------------

  app.views.reports = () => reportsView();
  app.views.members = membersView;

  $("range-form").addEventListener("submit", (event) => {
    event.preventDefault();
    app.status(app.text("webapp.loading"), false);
    reportsView("range=" + encodeURIComponent($("range").value))
      .then(() => app.status("", false))
      .catch((error) => app.status(error.message, false));
  });
  document.addEventListener("pointerdown", (event) => {
    if (!event.target.closest("[data-tip]")) $("tooltip").hidden = true;
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("search").value).catch((error) => app.status(error.message, false));
  });

  // staff see their tabs (which the server says), opening on the first of them; anyone else sees none
  app.onStart = async () => {
    try {
      staff = await app.api("staff/whoami");
    } catch (error) {
      return null;
    }
    for (const tab of document.querySelectorAll("#tabs [data-staff]")) tab.hidden = !staff.may[tab.dataset.staff];
    return staff.may.reports ? "reports" : "members";
  };
})();
