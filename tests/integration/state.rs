//! `simulate serve --state FILE`: orders and tokens survive a SIGKILL and a restart.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::{Value, json};
use simulate::base::secret::Secret;
use simulate::wechat::sign::delivery_sign;

use crate::serve_child::Serve;

const DADA: &str = "dadaaee18818d97e236";
const DADA_SECRET: &str = "1c6f40492d6d89caaad80b85f7d31670";
const BIZ: &str = "/cgi-bin/express/local/business";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

async fn post(base: &str, path: &str, token: &str, body: Value) -> Value {
    http()
        .post(format!("{base}{BIZ}/{path}?access_token={token}"))
        .json(&body)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON")
}

async fn fetch_token(base: &str) -> String {
    let answer: Value = http()
        .post(format!("{base}/cgi-bin/stable_token"))
        .json(
            &json!({"grant_type": "client_credential", "appid": "wxsimulate0000dev",
                      "secret": "simulate-dev-secret"}),
        )
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    answer["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn sign(order: &str) -> String {
    delivery_sign(DADA, Some(order), &Secret::new(DADA_SECRET))
}

fn add_body(order: &str) -> Value {
    json!({
        "shopid": DADA, "shop_order_id": order, "delivery_id": "DADA",
        "delivery_sign": sign(order), "openid": "oTESTopenid000000000000000000",
        "sender": { "name": "店", "city": "广州", "address": "a", "address_detail": "b",
                    "phone": "020-1", "lng": 113.32452, "lat": 23.099994 },
        "receiver": { "name": "客", "city": "广州", "address": "c", "address_detail": "d",
                      "phone": "13800000000", "lng": 113.34, "lat": 23.11 },
        "cargo": { "goods_value": 10, "goods_weight": 1,
                   "cargo_first_class": "其他", "cargo_second_class": "其他" },
        "order_info": { "order_type": 0, "order_time": chrono::Utc::now().timestamp() },
        "shop": { "wxa_path": "/p", "img_url": "https://x/y.png", "goods_name": "g", "goods_count": 1 },
    })
}

#[tokio::test]
async fn an_acknowledged_order_and_token_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("state.sqlite");
    let file_arg = file.to_string_lossy().into_owned();

    let first = Serve::start(&["--state", &file_arg]);
    let token = fetch_token(&first.base).await;
    assert!(!token.is_empty());
    let added = post(&first.base, "order/add", &token, add_body("KILL-1")).await;
    assert_eq!(added["errcode"], 0, "{added}");
    let waybill = added["waybill_id"].clone();
    let moved = post(
        &first.base,
        "realmock_update_order",
        &token,
        json!({"shopid": DADA, "shop_order_id": "KILL-1", "order_status": 102,
               "action_time": chrono::Utc::now().timestamp(), "action_msg": "rider",
               "delivery_sign": sign("KILL-1")}),
    )
    .await;
    assert_eq!(moved["errcode"], 0, "{moved}");
    // Straight after the answer: nothing may have been left in a buffer.
    first.kill_9();

    let second = Serve::start(&["--state", &file_arg]);
    // A restart says what it loaded (stderr is read on its own thread: let it catch up).
    let loaded = format!("state: 1 order, 1 token loaded from {file_arg}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !second.console().contains(&loaded) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(second.console().contains(&loaded), "{}", second.console());
    // The same token still works: the cached token came back too.
    let got = post(
        &second.base,
        "order/get",
        &token,
        json!({"shopid": DADA, "shop_order_id": "KILL-1", "delivery_sign": sign("KILL-1")}),
    )
    .await;
    assert_eq!(got["errcode"], 0, "{got}");
    assert_eq!(got["order_status"], 102, "{got}");
    assert_eq!(got["waybill_id"], waybill);
    // The stable token is served again, not replaced.
    assert_eq!(fetch_token(&second.base).await, token);
    // A new order gets a new waybill, not the old one's number again.
    let again = post(&second.base, "order/add", &token, add_body("KILL-2")).await;
    assert_eq!(again["errcode"], 0, "{again}");
    assert_ne!(again["waybill_id"], waybill);
    // Its history came back with it.
    let view: Value = http()
        .get(format!("{}/__simulate/orders/{DADA}/KILL-1", second.base))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let kinds: Vec<&str> = view["history"]
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["api"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        ["order/add", "realmock_update_order", "order/get"],
        "{view}"
    );
}

#[tokio::test]
async fn without_state_a_restart_forgets() {
    let first = Serve::start(&[]);
    let token = fetch_token(&first.base).await;
    let added = post(&first.base, "order/add", &token, add_body("MEM-1")).await;
    assert_eq!(added["errcode"], 0, "{added}");
    first.kill_9();
    let second = Serve::start(&[]);
    let token = fetch_token(&second.base).await;
    let got = post(
        &second.base,
        "order/get",
        &token,
        json!({"shopid": DADA, "shop_order_id": "MEM-1", "delivery_sign": sign("MEM-1")}),
    )
    .await;
    assert_ne!(got["errcode"], 0, "{got}");
}

#[tokio::test]
async fn a_state_file_that_cannot_be_opened_stops_serve_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("no-such-dir").join("state.sqlite");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["serve", "--addr", "127.0.0.1:0", "--state"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: cannot open the state file ") && err.contains("no-such-dir"),
        "{err}"
    );
    assert!(!err.contains("cannot serve on"), "{err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_state_database_is_named_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("notes.txt");
    std::fs::write(&bad, "these are my notes, not a database\n".repeat(200)).expect("writes");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["serve", "--addr", "127.0.0.1:0", "--state"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "error: cannot open the state file {}: it is not a simulate state database (SQLite): ",
        bad.display()
    );
    assert!(err.starts_with(&expected), "{err}");
    assert!(err.contains("\n  help: give --state a new file"), "{err}");
    assert!(!err.contains("cannot serve on"), "{err}");
}
