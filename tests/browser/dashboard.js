// Drives the dashboard in headless Chromium over the DevTools protocol (through a pipe, as
// puppeteer does: no package, no port), for tests/integration/dashboard_browser.rs.
//
// Env: SIMULATE_BASE_URL (the serve --ui address), SIMULATE_ORDER (a shop_order_id the test
// created, at 101), SIMULATE_SHOT (where to write the screenshot), CHROMIUM (the browser).
// Protocol with the test, one JSON line each on stdout: {"event":"shown"} once the order is on
// the page; the test then moves it to 102 and writes "moved" on stdin; at the end
// {"event":"done", ...} with every URL the page requested and what it measured.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const readline = require("readline");

const base = process.env.SIMULATE_BASE_URL;
const order = process.env.SIMULATE_ORDER;
const shot = process.env.SIMULATE_SHOT;
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "simulate-dashboard-"));
const browser = spawn(chromium, [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
  "--remote-debugging-pipe", "--user-data-dir=" + profile, "about:blank",
], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
let browserLog = "";
let finished = false;
browser.stderr.on("data", (d) => { browserLog += d; });

function fail(message) {
  process.stdout.write(JSON.stringify({ event: "failed", message, browser: browserLog.slice(-4000) }) + "\n");
  try { browser.kill("SIGKILL"); } catch (_) { /* gone already */ }
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(1);
}
setTimeout(() => fail("the browser test took more than 90 s"), 90000).unref();
browser.on("exit", (code) => { if (!finished) fail("chromium exited early (" + code + ")"); });

// The pipe: JSON messages, each ended by a NUL byte; Chromium reads fd 3 and writes fd 4.
const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];
let nextId = 1;
const waiting = new Map();
const listeners = [];
let pending = Buffer.alloc(0);
fromBrowser.on("data", (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  let end;
  while ((end = pending.indexOf(0)) >= 0) {
    const message = JSON.parse(pending.subarray(0, end).toString("utf8"));
    pending = pending.subarray(end + 1);
    if (message.id && waiting.has(message.id)) {
      const { resolve, reject } = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    } else if (message.method) {
      for (const listen of listeners) listen(message);
    }
  }
});

function send(method, params, sessionId) {
  const id = nextId++;
  const message = { id, method, params: params || {} };
  if (sessionId) message.sessionId = sessionId;
  toBrowser.write(JSON.stringify(message) + "\0");
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const requests = [];
  const problems = [];
  let loaded = false;
  listeners.push((m) => {
    if (m.method === "Network.requestWillBeSent") requests.push(m.params.request.url);
    if (m.method === "Page.loadEventFired") loaded = true;
    if (m.method === "Runtime.exceptionThrown") problems.push("exception: " + JSON.stringify(m.params.exceptionDetails));
    if (m.method === "Runtime.consoleAPICalled" && (m.params.type === "error" || m.params.type === "warning")) {
      problems.push("console " + m.params.type + ": " + JSON.stringify(m.params.args));
    }
    // CSP violations and failed loads are reported here.
    if (m.method === "Log.entryAdded" && (m.params.entry.level === "error" || m.params.entry.level === "warning")) {
      problems.push("log: " + m.params.entry.text + " " + (m.params.entry.url || ""));
    }
  });
  const { targetInfos } = await send("Target.getTargets");
  const page = targetInfos.find((t) => t.type === "page");
  if (!page) fail("no page target");
  const { sessionId } = await send("Target.attachToTarget", { targetId: page.targetId, flatten: true });
  const call = (method, params) => send(method, params, sessionId);
  for (const domain of ["Network", "Page", "Runtime", "Log"]) await call(domain + ".enable");
  await call("Emulation.setDeviceMetricsOverride", { width: 1600, height: 1000, deviceScaleFactor: 1, mobile: false });
  await call("Page.navigate", { url: base + "/" });

  const evaluate = async (expression, awaitPromise) => {
    const { result, exceptionDetails } = await call("Runtime.evaluate", { expression, awaitPromise: !!awaitPromise, returnByValue: true });
    if (exceptionDetails) throw new Error(JSON.stringify(exceptionDetails));
    return result.value;
  };
  const statusOf = `(document.querySelector('[data-order=${JSON.stringify(order)}] [data-status]') || {dataset: {}}).dataset.status`;
  // Resolves with the milliseconds it took for the order to show `code`, or -1 after 10 s.
  const waitFor = (code) => evaluate(`new Promise((resolve) => {
      const t0 = performance.now();
      const check = () => {
        if (${statusOf} === ${JSON.stringify(String(code))}) resolve(performance.now() - t0);
        else if (performance.now() - t0 > 10000) resolve(-1);
        else setTimeout(check, 10);
      };
      check();
    })`, true);

  const shownIn = await waitFor(101);
  if (shownIn < 0) fail("the order never showed at 101: " + await evaluate("document.body.innerText"));
  for (let i = 0; i < 100 && !loaded; i++) await sleep(50);
  process.stdout.write(JSON.stringify({ event: "shown" }) + "\n");

  const input = readline.createInterface({ input: process.stdin });
  const moved = await new Promise((resolve) => input.once("line", resolve));
  if (moved.trim() !== "moved") fail("expected `moved`, got " + moved);
  const started = Date.now();
  const inPage = await waitFor(102);
  const latency = Date.now() - started;
  if (inPage < 0) fail("the order never showed 102: " + await evaluate("document.body.innerText"));

  // The page's own buttons: only the allowed next status is offered; clicking it moves the order.
  const offered = await evaluate(`[...document.querySelectorAll('[data-order=${JSON.stringify(order)}] [data-move]')].map(b => b.dataset.move)`);
  await evaluate(`document.querySelector('[data-order=${JSON.stringify(order)}] [data-move="201"]').click()`);
  const clicked = await waitFor(201);
  if (clicked < 0) fail("clicking → 201 did not move the order");

  // The language switch.
  const titleBefore = await evaluate("document.getElementById('title').textContent");
  await evaluate("document.getElementById('switch').click()");
  const titleAfter = await evaluate("document.getElementById('title').textContent");
  const statusAfter = await evaluate(`document.querySelector('[data-order=${JSON.stringify(order)}] [data-status]').textContent`);
  await evaluate("document.getElementById('switch').click()");
  await sleep(300);

  const { data } = await call("Page.captureScreenshot", { format: "png" });
  fs.writeFileSync(shot, Buffer.from(data, "base64"));
  finished = true;
  process.stdout.write(JSON.stringify({
    event: "done", latency_ms: latency, requests, problems, offered, title_before: titleBefore,
    title_after: titleAfter, status_after: statusAfter,
  }) + "\n");
  try { await send("Browser.close"); } catch (_) { /* closing */ }
  await sleep(200);
  try { browser.kill("SIGKILL"); } catch (_) { /* gone */ }
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(0);
}

main().catch((e) => fail(String(e && e.stack || e)));
