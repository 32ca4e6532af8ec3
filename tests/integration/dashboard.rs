//! The live dashboard (`serve --ui`, `--local --ui`) through the real binary: the page and its
//! assets, the server-sent feed, and the actions, which must go through the APIs themselves
//! (history entries, pushes). Codes and paths are literal on purpose.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simulate::base::secret::Secret;
use simulate::wechat::sign::delivery_sign;

use crate::accounts::{BIZ, DADA, DADA_SECRET, now};
use crate::common::scenario;
use crate::serve_child::Serve;

const SS: &str = "simulate-ss-shop";
const SS_SECRET: &str = "simulate-ss-secret";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn token(base: &str) -> String {
    let answer: Value = http()
        .post(format!("{base}/cgi-bin/stable_token"))
        .json(
            &json!({ "grant_type": "client_credential", "appid": "wxsimulate0000dev",
                       "secret": "simulate-dev-secret" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

async fn call(base: &str, token: &str, api: &str, body: Value) -> Value {
    http()
        .post(format!("{base}{BIZ}/{api}?access_token={token}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `order/add` for `shopid`'s test account.
async fn add(base: &str, token: &str, shopid: &str, secret: &str, delivery_id: &str, id: &str) {
    let sign = delivery_sign(shopid, Some(id), &Secret::new(secret));
    let mut body = json!({
            "shopid": shopid, "shop_order_id": id, "delivery_id": delivery_id,
            "delivery_sign": sign, "openid": "oTESTopenid000000000000000000",
            "sender": { "name": "店", "city": "上海市", "address": "a", "address_detail": "b",
                        "phone": "021-1", "lng": 121.481462, "lat": 31.236873 },
            "receiver": { "name": "客", "city": "上海市", "address": "c", "address_detail": "d",
                          "phone": "13800000000", "lng": 121.453821, "lat": 31.228137 },
            "cargo": { "goods_value": 20, "goods_weight": 1,
                       "cargo_first_class": "其他", "cargo_second_class": "其他" },
            "order_info": { "order_type": 0, "order_time": now() },
            "shop": { "wxa_path": "/p", "img_url": "https://x/y.png", "goods_name": "g",
                      "goods_count": 1 },
    });
    if shopid == SS {
        body["shop_no"] = json!("simulate-ss-store-1");
    }
    let answer = call(base, token, "order/add", body).await;
    assert_eq!(answer["errcode"], 0, "order/add: {answer}");
    assert_eq!(answer["resultcode"], 0, "order/add: {answer}");
}

async fn realmock(base: &str, token: &str, id: &str, status: u16) -> Value {
    let sign = delivery_sign(DADA, Some(id), &Secret::new(DADA_SECRET));
    call(
        base,
        token,
        "realmock_update_order",
        json!({ "shopid": DADA, "shop_order_id": id, "order_status": status,
                "action_time": now(), "action_msg": "", "delivery_sign": sign }),
    )
    .await
}

/// An action as the page sends it.
async fn act(base: &str, shopid: &str, id: &str, action: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!(
            "{base}/__simulate/ui/orders/{shopid}/{id}/{action}"
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn history(base: &str, shopid: &str, id: &str) -> Value {
    http()
        .get(format!("{base}/__simulate/orders/{shopid}/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The dashboard's event stream, read snapshot by snapshot.
struct Feed {
    response: reqwest::Response,
    buffer: String,
}

impl Feed {
    async fn open(base: &str) -> Feed {
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("{base}/__simulate/ui/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Feed {
            response,
            buffer: String::new(),
        }
    }

    /// The next `snapshot` event's data, waiting at most `within`.
    async fn next(&mut self, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event = Some(name.trim().to_owned());
                    } else if let Some(part) = line.strip_prefix("data:") {
                        data.push_str(part.strip_prefix(' ').unwrap_or(part));
                    }
                }
                if event.as_deref() == Some("snapshot") {
                    return serde_json::from_str(&data).unwrap();
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("a snapshot within the time allowed")
                .unwrap()
                .expect("the feed stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The first snapshot in which `order` satisfies `wanted`.
    async fn until(&mut self, id: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let snapshot = self.next(left).await;
            let order = snapshot["orders"]
                .as_array()
                .and_then(|all| all.iter().find(|o| o["shop_order_id"] == id).cloned());
            if let Some(order) = order
                && wanted(&order)
            {
                return order;
            }
        }
    }
}

/// A merchant push URL on loopback that answers the URL check and takes every push.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::extract::RawQuery;
    use axum::routing::get;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        get(|RawQuery(q): RawQuery| async move {
            q.unwrap_or_default()
                .split('&')
                .find_map(|kv| kv.strip_prefix("echostr="))
                .unwrap_or_default()
                .to_owned()
        })
        .post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                "success"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

fn codes(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn serve_ui_serves_a_self_contained_page_at_the_root_and_only_with_ui() {
    let serve = Serve::start(&["--ui", "--lang", "zh"]);
    assert!(
        serve
            .announced
            .iter()
            .any(|l| l == &format!("看板：{}/（实时订单，在浏览器中打开）", serve.base)),
        "{:?}",
        serve.announced
    );
    let page = http().get(format!("{}/", serve.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains(r#"<html lang="zh">"#), "{html}");
    // Both languages' words, from the catalogues, with the tool's language first.
    let boot = html
        .split(r#"<script type="application/json" id="boot">"#)
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    let boot: Value = serde_json::from_str(boot).unwrap();
    assert_eq!(boot["lang"], "zh");
    assert_eq!(boot["words"]["en"]["title"], "Live orders");
    assert_eq!(boot["words"]["zh"]["title"], "实时订单");
    for (path, kind) in [
        ("/__simulate/ui/app.js", "text/javascript"),
        ("/__simulate/ui/style.css", "text/css"),
    ] {
        assert!(html.contains(path), "{path} is not linked");
        let asset = http()
            .get(format!("{}{path}", serve.base))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{path}");
        assert!(
            asset.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
    }
    drop(serve);

    // Without --ui, `/` is what it always was: the platform's answer to an unknown path.
    let plain = Serve::start(&[]);
    assert!(!plain.announced.iter().any(|l| l.contains("dashboard")));
    for path in ["/", "/__simulate/ui/state", "/__simulate/ui/events"] {
        let answer: Value = http()
            .get(format!("{}{path}", plain.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["errcode"], 40066, "{path}: {answer}");
    }
}

#[tokio::test]
async fn the_feed_shows_an_order_when_it_is_created_and_each_time_it_moves() {
    let serve = Serve::start(&["--ui"]);
    let base = serve.base.clone();
    let token = token(&base).await;
    let mut feed = Feed::open(&base).await;
    let first = feed.next(Duration::from_secs(10)).await;
    assert_eq!(first["total"], 0, "{first}");

    add(&base, &token, DADA, DADA_SECRET, "DADA", "FEED-1").await;
    let created = feed.until("FEED-1", |o| o["status"]["code"] == 101).await;
    assert_eq!(created["carrier"]["id"], "dada");
    assert_eq!(created["carrier"]["name"]["zh"], "达达");
    assert_eq!(codes(&created["actions"]["moves"]), [102]);
    assert_eq!(created["actions"]["tip"], 2.0);
    assert!(created["map"]["rider"].is_null(), "no rider before 102");

    let answer = realmock(&base, &token, "FEED-1", 102).await;
    assert_eq!(answer["resultcode"], 0, "{answer}");
    let assigned = feed.until("FEED-1", |o| o["status"]["code"] == 102).await;
    assert_eq!(assigned["status"]["label"]["en"], "rider assigned");
    assert_eq!(assigned["progress"], json!({ "done": 1, "total": 5 }));
    assert_eq!(codes(&assigned["actions"]["moves"]), [201]);
    assert!(assigned["rider"]["name"].is_string());
    // The rider is drawn on the map, inside the frame, as order/get places it.
    let rider = &assigned["map"]["rider"];
    let (x, y) = (rider["x"].as_f64().unwrap(), rider["y"].as_f64().unwrap());
    assert!(
        (0.0..=400.0).contains(&x) && (0.0..=260.0).contains(&y),
        "{rider}"
    );
    // The timeline has the creation and the call, with its answer.
    let timeline = assigned["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["kind"], "created");
    let last = timeline.last().unwrap();
    assert_eq!(last["api"], "realmock_update_order");
    assert_eq!(last["change"], json!({ "from": 101, "to": 102 }));
    assert_eq!(last["ok"], true);

    // What the page is fed never carries a secret (nor the order's wx_token).
    let state = http()
        .get(format!("{base}/__simulate/ui/state"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in crate::common::SECRETS.iter().chain([&token.as_str()]) {
        assert!(
            !state.contains(secret),
            "the dashboard state shows a secret"
        );
    }
    assert!(
        !state.contains("SIMWX"),
        "the dashboard state shows the wx_token"
    );

    // A refused call is shown with what the carrier answered.
    let refused = realmock(&base, &token, "FEED-1", 302).await;
    assert_eq!(refused["resultcode"], 9102, "{refused}");
    let shown = feed
        .until("FEED-1", |o| {
            o["timeline"]
                .as_array()
                .is_some_and(|t| t.last().is_some_and(|e| e["ok"] == false))
        })
        .await;
    let detail = shown["timeline"].as_array().unwrap().last().unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.starts_with("resultcode 9102"), "{detail}");
    drop(serve);
}

#[tokio::test]
async fn dashboard_actions_are_api_calls_with_their_history_and_pushes() {
    let (hook, pushes) = receiver().await;
    let serve = Serve::start(&["--ui", "--callback", &hook, "--push-token", "uiToken"]);
    let base = serve.base.clone();
    let token = token(&base).await;
    add(&base, &token, DADA, DADA_SECRET, "DADA", "ACT-1").await;

    // A tip while the order waits for a rider: order/addtips.
    let (status, tipped) = act(&base, DADA, "ACT-1", "tip", json!({ "tips": 2 })).await;
    assert_eq!(status, 200, "{tipped}");
    assert_eq!(tipped["api"], "order/addtips");
    assert_eq!(tipped["answer"]["resultcode"], 0, "{tipped}");
    assert_eq!(history(&base, DADA, "ACT-1").await["tips"], 2.0);

    // A move the carrier's graph allows: realmock_update_order, signed, and pushed.
    let (status, moved) = act(&base, DADA, "ACT-1", "move", json!({ "status": 102 })).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["api"], "realmock_update_order");
    assert_eq!(moved["answer"]["resultcode"], 0, "{moved}");
    let view = history(&base, DADA, "ACT-1").await;
    assert_eq!(view["status"]["code"], 102);
    let calls: Vec<&Value> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "call")
        .collect();
    let apis: Vec<&str> = calls.iter().map(|c| c["api"].as_str().unwrap()).collect();
    assert_eq!(
        apis,
        ["order/add", "order/addtips", "realmock_update_order"]
    );
    assert_eq!(calls[2]["status_change"], json!({ "from": 101, "to": 102 }));
    // Kept like any call: the signature is not shown.
    assert_eq!(calls[2]["request"]["delivery_sign"], "***");

    // Not offered from here: refused before any call, naming what is.
    let calls_in = |view: &Value| {
        view["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "call")
            .count()
    };
    let before = calls_in(&view);
    let (status, refused) = act(&base, DADA, "ACT-1", "move", json!({ "status": 302 })).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["moves"], json!([201]));
    let (status, _) = act(&base, DADA, "ACT-1", "tip", json!({ "tips": 5 })).await;
    assert_eq!(status, 409, "no tip after 101");
    let after = history(&base, DADA, "ACT-1").await;
    assert_eq!(calls_in(&after), before, "nothing was called");

    // Cancel: order/cancel, as the merchant's API does it (102 → 103), and pushed.
    let (status, cancelled) = act(&base, DADA, "ACT-1", "cancel", json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["api"], "order/cancel");
    assert_eq!(cancelled["answer"]["resultcode"], 0, "{cancelled}");
    assert_eq!(history(&base, DADA, "ACT-1").await["status"]["code"], 103);
    let (status, _) = act(&base, DADA, "ACT-1", "cancel", json!({})).await;
    assert_eq!(status, 409, "an ended order offers nothing");

    // Each status change reached the merchant as update_waybill_status.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let statuses: Vec<i64> = pushes
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p["shop_order_id"] == "ACT-1")
            .filter_map(|p| p["order_status"].as_i64())
            .collect();
        if statuses == [102, 103] {
            break;
        }
        assert!(Instant::now() < deadline, "pushes: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Unknown orders and actions, and requests that are not the page's own.
    let (status, _) = act(&base, DADA, "NOPE", "cancel", json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = act(&base, DADA, "ACT-1", "explode", json!({})).await;
    assert_eq!(status, 404);
    let form = http()
        .post(format!("{base}/__simulate/ui/orders/{DADA}/ACT-1/cancel"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415, "a cross-site form cannot act");
    let foreign = http()
        .post(format!("{base}/__simulate/ui/orders/{DADA}/ACT-1/cancel"))
        .header("origin", "http://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403, "another site's script cannot act");
    drop(serve);
}

#[tokio::test]
async fn returning_goods_are_confirmed_back_from_the_dashboard() {
    let serve = Serve::start(&["--ui"]);
    let base = serve.base.clone();
    let token = token(&base).await;
    add(&base, &token, DADA, DADA_SECRET, "DADA", "BACK-1").await;
    for status in [102, 201, 202, 301, 304] {
        let (code, moved) = act(&base, DADA, "BACK-1", "move", json!({ "status": status })).await;
        assert_eq!(code, 200, "{status}: {moved}");
        assert_eq!(moved["answer"]["resultcode"], 0, "{status}: {moved}");
    }
    // Dada reports nothing after 304, so no move is offered; the merchant's confirmation is.
    let (code, refused) = act(&base, DADA, "BACK-1", "move", json!({ "status": 401 })).await;
    assert_eq!(code, 409, "{refused}");
    assert_eq!(refused["moves"], json!([]));
    assert_eq!(refused["confirm_return"], true);
    let (code, back) = act(&base, DADA, "BACK-1", "confirm_return", json!({})).await;
    assert_eq!(code, 200, "{back}");
    assert_eq!(back["api"], "order/confirm_return");
    assert_eq!(back["answer"]["resultcode"], 0, "{back}");
    assert_eq!(history(&base, DADA, "BACK-1").await["status"]["code"], 401);
    drop(serve);
}

#[tokio::test]
async fn an_order_no_test_call_reaches_moves_by_the_carrier_side() {
    let serve = Serve::start(&["--ui"]);
    let base = serve.base.clone();
    let token = token(&base).await;
    add(&base, &token, SS, SS_SECRET, "SS", "SS-1").await;
    let (status, moved) = act(&base, SS, "SS-1", "move", json!({ "status": 102 })).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["api"], "delivery/update_order");
    assert_eq!(moved["answer"]["resultcode"], 0, "{moved}");
    assert_eq!(history(&base, SS, "SS-1").await["status"]["code"], 102);
    let state: Value = http()
        .get(format!("{base}/__simulate/ui/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["orders"][0]["shop_order_id"], "SS-1");
    drop(serve);
}

#[tokio::test]
async fn a_local_run_with_ui_keeps_its_dashboard_until_interrupted() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["--local", "--ui", "--speed", "100000", "--seed", "3"])
        .arg(scenario("sf_happy_path.yaml"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no dashboard line: {seen:?}"));
        if let Some(rest) = line.strip_prefix("the run is over; the dashboard stays at ") {
            break rest.trim_end_matches(" until Ctrl-C").to_owned();
        }
        seen.push(line);
    };
    assert!(
        seen.iter()
            .any(|l| l == &format!("dashboard: {url} (live orders, in a browser)")),
        "the address is printed at the start too: {seen:?}"
    );
    // The run's order is there, delivered, and the page is served.
    let state: Value = http()
        .get(format!("{url}__simulate/ui/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["total"], 1, "{state}");
    assert_eq!(state["orders"][0]["status"]["code"], 302);
    assert_eq!(
        http().get(&url).send().await.unwrap().status(),
        200,
        "the page"
    );
    // Ctrl-C (here SIGTERM) ends it, with the run's own exit code.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still serving 20 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "the run passed");
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether Chromium and node are there; when not, a skip message, or a failure under
/// SIMULATE_REQUIRE_BROWSER=1 (which .ci/run sets).
fn browser_ready() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if std::path::Path::new(CHROMIUM).exists() && node {
        return true;
    }
    let message = format!(
        "{CHROMIUM} or node is missing: this test drives the dashboard in a real browser; \
         install Debian's chromium and nodejs (`apt-get update && apt-get install -y chromium nodejs`)"
    );
    assert!(
        std::env::var("SIMULATE_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "SIMULATE_REQUIRE_BROWSER=1 but {message}"
    );
    eprintln!("skipped: {message}");
    false
}

/// Moves a Dada order through `statuses` with realmock.
async fn walk(base: &str, token: &str, id: &str, statuses: &[u16]) {
    for &status in statuses {
        let answer = realmock(base, token, id, status).await;
        assert_eq!(answer["resultcode"], 0, "{id} → {status}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_runs_offline_in_chromium_and_follows_an_order_live() {
    if !browser_ready() {
        return;
    }
    let (hook, _pushes) = receiver().await;
    let serve = Serve::start(&["--ui", "--callback", &hook, "--push-token", "uiToken"]);
    let base = serve.base.clone();
    let token = token(&base).await;
    // Orders in several states, for the screenshot; the test's own order waits at 101.
    add(&base, &token, DADA, DADA_SECRET, "DADA", "demo-delivered").await;
    walk(&base, &token, "demo-delivered", &[102, 201, 202, 301, 302]).await;
    add(&base, &token, DADA, DADA_SECRET, "DADA", "demo-on-the-way").await;
    walk(&base, &token, "demo-on-the-way", &[102, 201, 202]).await;
    // The carrier side says when the rider arrives, so the rider is seen on the way.
    let order = history(&base, DADA, "demo-on-the-way").await;
    let answer = http()
        .post(format!(
            "{base}/cgi-bin/express/local/delivery/update_order?access_token={token}"
        ))
        .json(&json!({
            "wx_token": order["wx_token"], "shopid": DADA, "shop_order_id": "demo-on-the-way",
            "waybill_id": order["waybill_id"], "action_time": now(), "order_status": 301,
            "action_msg": "配送中", "expected_delivery_time": now() + 12,
        }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(answer["resultcode"], 0, "{answer}");
    add(&base, &token, DADA, DADA_SECRET, "DADA", "demo-live").await;

    let shot = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    std::fs::create_dir_all(&shot).unwrap();
    let shot = shot.join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let mut node = Command::new("node")
        .arg(crate::common::repo().join("tests/browser/dashboard.js"))
        .env("SIMULATE_BASE_URL", &base)
        .env("SIMULATE_ORDER", "demo-live")
        .env("SIMULATE_SHOT", &shot)
        .env("CHROMIUM", CHROMIUM)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = node.stdout.take().unwrap();
    let mut stdin = node.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(serde_json::from_str(&line).unwrap_or(json!({ "event": line })));
        }
    });
    let rx = Arc::new(Mutex::new(rx));
    let next = || {
        let rx = rx.clone();
        tokio::task::spawn_blocking(move || {
            rx.lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or(json!({ "event": "no answer from the browser script" }))
        })
    };
    let shown = next().await.unwrap();
    assert_eq!(shown["event"], "shown", "{shown}");
    // The order moves by the API, as any client would move it; the page must follow.
    walk(&base, &token, "demo-live", &[102]).await;
    use std::io::Write;
    writeln!(stdin, "moved").unwrap();
    let done = next().await.unwrap();
    assert_eq!(done["event"], "done", "{done}");
    let _ = node.wait();

    // Nothing but this server was asked for anything.
    let requests: Vec<&str> = done["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for url in &requests {
        assert!(
            url.starts_with(&format!("{base}/")) || url.starts_with("data:"),
            "the page asked for {url}, which is not {base}: {requests:?}"
        );
    }
    for needed in [
        "/",
        "/__simulate/ui/app.js",
        "/__simulate/ui/style.css",
        "/__simulate/ui/events",
    ] {
        assert!(
            requests.contains(&format!("{base}{needed}").as_str()),
            "{needed} was not loaded: {requests:?}"
        );
    }
    assert_eq!(done["problems"], json!([]), "errors in the page");
    // Within a second of the move's answer, the page showed it.
    let latency = done["latency_ms"].as_u64().unwrap();
    eprintln!("the page showed the move {latency} ms after the API answered it");
    assert!(
        latency < 1000,
        "the page showed the move {latency} ms after it"
    );
    // From 102, Dada goes only to 201: that is the only move offered.
    assert_eq!(done["offered"], json!(["201"]));
    assert_eq!(done["title_before"], "Live orders");
    assert_eq!(done["title_after"], "实时订单");
    assert_eq!(done["status_after"], "201 骑手到店开始取货");
    let history = history(&base, DADA, "demo-live").await;
    assert_eq!(history["status"]["code"], 201, "the click moved it");

    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    eprintln!("dashboard screenshot: {}", shot.display());
    if std::env::var("SIMULATE_BLESS").as_deref() == Ok("1") {
        std::fs::copy(&shot, crate::common::repo().join("docs/dashboard.png")).unwrap();
    }
    drop(serve);
}
