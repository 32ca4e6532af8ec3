// The live dashboard: draws every order from the server's snapshots (server-sent events) and
// sends the actions it offers. Everything it loads comes from this server.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const boot = JSON.parse(document.getElementById("boot").textContent);
let lang = new URLSearchParams(location.search).get("lang") || boot.lang;
if (!boot.words[lang]) lang = "en";
let last = null;
// Per order: the last drawn view (to redraw only what changed) and the last action's message.
const drawn = new Map();
const messages = new Map();

function words() { return boot.words[lang]; }

// A catalogue text with its %{name} placeholders filled in.
function say(key, values) {
  let text = words()[key] || key;
  for (const [name, value] of Object.entries(values || {})) {
    text = text.split("%{" + name + "}").join(String(value));
  }
  return text;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function keyOf(order) { return order.shopid + "/" + order.shop_order_id; }

function statusText(status) { return status.code + " " + status.label[lang]; }

function clock(rfc3339) {
  const d = new Date(rfc3339);
  return isNaN(d) ? rfc3339 : d.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

function drawMap(order) {
  const m = order.map;
  const box = svg("svg", { class: "map", viewBox: "0 0 " + m.width + " " + m.height, role: "img" });
  // A faint street grid, so the map reads as a map without any tiles.
  for (let x = 40; x < m.width; x += 40) box.appendChild(svg("line", { class: "grid", x1: x, y1: 0, x2: x, y2: m.height }));
  for (let y = 40; y < m.height; y += 40) box.appendChild(svg("line", { class: "grid", x1: 0, y1: y, x2: m.width, y2: y }));
  box.appendChild(svg("line", { class: "route", x1: m.store.x, y1: m.store.y, x2: m.receiver.x, y2: m.receiver.y }));
  const place = (p, cls, label) => {
    box.appendChild(svg("rect", { class: cls, x: p.x - 9, y: p.y - 9, width: 18, height: 18, rx: 4 }));
    // The label on the side with room, so it stays inside the frame.
    const left = p.x > m.width / 2;
    const t = svg("text", { x: left ? p.x - 14 : p.x + 14, y: p.y + 6, class: left ? "end" : "" });
    t.textContent = label;
    box.appendChild(t);
  };
  place(m.store, "store", words().store);
  place(m.receiver, "receiver", words().receiver);
  if (m.rider) {
    box.appendChild(svg("circle", { class: "rider", cx: m.rider.x, cy: m.rider.y, r: 11, "data-rider": "" }));
  }
  return box;
}

function timelineText(entry) {
  if (entry.kind === "created") return say("created", { api: entry.api });
  if (entry.kind === "push") {
    return say(entry.ok ? "push_ok" : "push_failed",
      { status: entry.status, attempt: entry.attempt, of: entry.of, detail: entry.detail });
  }
  let api = entry.api;
  if (entry.change) api += " " + entry.change.from + "→" + entry.change.to;
  return entry.ok ? say("call_ok", { api }) : say("call_failed", { api, detail: entry.detail });
}

function drawTimeline(order) {
  const list = el("ol", "timeline");
  // Newest first: what just happened is on top.
  for (const entry of order.timeline.slice().reverse()) {
    const item = el("li", entry.ok ? "ok" : "bad");
    item.appendChild(el("span", "t", clock(entry.time)));
    item.appendChild(document.createTextNode((entry.kind === "push" ? "⇠ " : "→ ") + timelineText(entry)));
    list.appendChild(item);
  }
  if (order.history_dropped > 0) list.appendChild(el("li", "", say("history_dropped", { count: order.history_dropped })));
  return list;
}

async function act(order, action, body) {
  const key = keyOf(order);
  const url = "/__simulate/ui/orders/" + encodeURIComponent(order.shopid) + "/" +
    encodeURIComponent(order.shop_order_id) + "/" + action;
  let message;
  try {
    const response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (response.status === 409) {
      message = { ok: false, text: say("not_offered") };
    } else if (!response.ok) {
      message = { ok: false, text: say("unreachable", { detail: answer.error || response.status }) };
    } else {
      const a = answer.answer || {};
      const failed = (a.errcode && a.errcode !== 0) || (a.resultcode && a.resultcode !== 0);
      const detail = a.errcode ? "errcode " + a.errcode + ": " + (a.errmsg || "")
        : "resultcode " + a.resultcode + ": " + (a.resultmsg || "");
      message = failed ? { ok: false, text: say("refused", { api: answer.api, detail }) }
        : { ok: true, text: say("done", { api: answer.api }) };
    }
  } catch (e) {
    message = { ok: false, text: say("unreachable", { detail: String(e) }) };
  }
  messages.set(key, message);
  drawn.delete(key);
  if (last) render(last);
}

function drawActions(order) {
  const row = el("div", "actions");
  const button = (text, cls, attrs, run) => {
    const b = el("button", cls, text);
    b.type = "button";
    for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
    b.addEventListener("click", () => { b.disabled = true; run(); });
    row.appendChild(b);
  };
  for (const move of order.actions.moves) {
    button(say("move_to", { status: statusText(move) }), "", { "data-move": move.code },
      () => act(order, "move", { status: move.code }));
  }
  if (order.actions.tip !== null && order.actions.tip !== undefined) {
    const tips = order.actions.tip;
    button(say("add_tip", { tips }), "", { "data-action": "tip" }, () => act(order, "tip", { tips }));
  }
  if (order.actions.confirm_return) {
    button(say("confirm_return"), "", { "data-action": "confirm_return" }, () => act(order, "confirm_return", {}));
  }
  if (order.actions.cancel) {
    button(say("cancel"), "danger", { "data-action": "cancel" }, () => act(order, "cancel", {}));
  }
  if (!row.childNodes.length) row.appendChild(el("span", "message", say("nothing_to_do")));
  const message = messages.get(keyOf(order));
  if (message) row.appendChild(el("span", "message " + (message.ok ? "ok" : "bad"), message.text));
  return row;
}

function drawOrder(order) {
  const card = el("section", "order " + (order.status.terminal || "live"));
  card.setAttribute("data-order", order.shop_order_id);
  const head = el("div", "head");
  head.appendChild(el("span", "carrier", order.carrier.name[lang]));
  head.appendChild(el("span", "id", order.shop_order_id));
  const status = el("span", "status", statusText(order.status));
  status.setAttribute("data-status", order.status.code);
  head.appendChild(status);
  card.appendChild(head);

  const facts = el("div", "facts");
  const fact = (label, value) => {
    const f = el("span", "", label + " ");
    f.appendChild(el("b", "", value));
    facts.appendChild(f);
  };
  fact(words().waybill, order.waybill_id);
  fact(words().rider, order.rider ? order.rider.name + " " + order.rider.phone : words().no_rider);
  if (order.tips > 0) fact(words().tip, "¥" + order.tips);
  fact("", say("progress", { done: order.progress.done, total: order.progress.total }));
  card.appendChild(facts);

  const bar = el("div", "bar");
  const fill = el("div");
  const share = order.progress.total ? order.progress.done / order.progress.total : 1;
  fill.style.width = Math.round(share * 100) + "%";
  bar.appendChild(fill);
  card.appendChild(bar);

  const path = el("div", "path");
  for (const step of order.path) {
    const chip = el("span", "step " + step.state, step.code + " " + step.label[lang]);
    path.appendChild(chip);
  }
  card.appendChild(path);

  const body = el("div", "body");
  body.appendChild(drawMap(order));
  body.appendChild(drawTimeline(order));
  card.appendChild(body);
  card.appendChild(drawActions(order));
  return card;
}

function render(snapshot) {
  last = snapshot;
  document.documentElement.lang = lang;
  document.getElementById("title").textContent = words().title;
  document.getElementById("not-wechat").textContent = words().not_wechat;
  document.getElementById("switch").textContent = words().switch;
  const showing = document.getElementById("showing");
  showing.textContent = snapshot.orders.length === 0 ? words().no_orders
    : snapshot.total > snapshot.orders.length
      ? say("showing", { shown: snapshot.orders.length, total: snapshot.total }) : "";
  const main = document.getElementById("orders");
  const wanted = snapshot.orders.map(keyOf);
  // Cards in the snapshot's order, each redrawn only when its view changed.
  const cards = new Map();
  for (const card of main.children) cards.set(card.getAttribute("data-key"), card);
  let before = null;
  for (let i = wanted.length - 1; i >= 0; i--) {
    const order = snapshot.orders[i];
    const key = wanted[i];
    const text = JSON.stringify(order);
    let card = cards.get(key);
    if (!card || drawn.get(key) !== text) {
      const fresh = drawOrder(order);
      fresh.setAttribute("data-key", key);
      if (card) card.replaceWith(fresh);
      card = fresh;
      drawn.set(key, text);
    }
    main.insertBefore(card, before);
    before = card;
    cards.delete(key);
  }
  for (const [key, card] of cards) { card.remove(); drawn.delete(key); }
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/__simulate/ui/events");
  source.addEventListener("snapshot", (e) => {
    live.textContent = "● " + words().live;
    live.className = "badge on";
    render(JSON.parse(e.data));
  });
  source.onerror = () => {
    live.textContent = words().reconnecting;
    live.className = "badge off";
  };
}

document.getElementById("switch").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  drawn.clear();
  if (last) render(last);
  else document.getElementById("switch").textContent = words().switch;
});
document.getElementById("switch").textContent = words().switch;
document.getElementById("title").textContent = words().title;
document.getElementById("not-wechat").textContent = words().not_wechat;
connect();
