//! `simulate send` and `simulate run --order`: moving orders that exist already, against the
//! real emulator (in-process on loopback, or `simulate serve` as a child), through the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use simulate::base::secret::Secret;
use simulate::emulator::Config;
use simulate::wechat::sign::delivery_sign;

use crate::accounts::{BIZ, DADA, DADA_SECRET, now};
use crate::common::{Platform, Sim, validate_events, write_scenario};
use crate::serve_child::Serve;

/// An emulator that knows only the orders created through its merchant API.
async fn strict() -> Platform {
    Platform::with(Config::default()).await
}

/// `order/add` for a Dada order, as the merchant's backend (or app) would make it.
async fn add_order(base: &str, token: &str, order: &str) {
    let body = json!({
        "shopid": DADA, "shop_order_id": order, "delivery_id": "DADA",
        "delivery_sign": delivery_sign(DADA, Some(order), &Secret::new(DADA_SECRET)),
        "openid": "oTESTopenid000000000000000000",
        "sender": { "name": "店", "city": "上海", "address": "a", "address_detail": "b",
                    "phone": "021-1", "lng": 121.481462, "lat": 31.236873 },
        "receiver": { "name": "客", "city": "上海", "address": "c", "address_detail": "d",
                      "phone": "13800000000", "lng": 121.453821, "lat": 31.228137 },
        "cargo": { "goods_value": 40, "goods_weight": 1,
                   "cargo_first_class": "美食夜宵", "cargo_second_class": "快餐/地方菜" },
        "order_info": { "order_type": 0, "order_time": now() },
        "shop": { "wxa_path": "/p", "img_url": "https://x/y.png", "goods_name": "g", "goods_count": 1 },
    });
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}{BIZ}/order/add?access_token={token}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 0, "{answer}");
}

/// The order's status and how many status updates reached it, from the emulator's history.
async fn order_state(platform: &Platform, order: &str) -> (i64, usize) {
    let orders = platform.orders().await;
    let found = crate::common::orders_list(&orders)
        .into_iter()
        .find(|o| o["shop_order_id"] == order)
        .unwrap_or_else(|| panic!("no order {order} in {orders}"));
    let updates = found["history"].as_array().map_or(0, |h| {
        h.iter()
            .filter(|e| e["api"] == "realmock_update_order")
            .count()
    });
    (found["status"]["code"].as_i64().unwrap_or(-1), updates)
}

fn send(platform: &Platform, order: &str, status: &str) -> Sim {
    platform.simulate().args([
        "send",
        "--carrier",
        "dada",
        "--order",
        order,
        "--status",
        status,
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn send_moves_an_order_the_merchant_created_one_allowed_step_at_a_time() {
    let platform = strict().await;
    add_order(&platform.url(), platform.token.expose(), "send-1").await;
    let run = send(&platform, "send-1", "102").run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stdout);
    assert!(
        lines[0].starts_with(
            "✓ dada order send-1 moved from 101 awaiting_rider to 102 rider_assigned: ok ("
        ),
        "{}",
        run.stdout
    );
    let run = send(&platform, "send-1", "at_store")
        .args(["--msg", "骑手到店"])
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout
            .contains("from 102 rider_assigned to 201 at_store"),
        "{}",
        run.stdout
    );
    assert_eq!(order_state(&platform, "send-1").await, (201, 2));
    // -q: only what went wrong.
    let run = send(&platform, "send-1", "202").arg("-q").run().await;
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    run.assert_no_secrets(&[platform.token.expose()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_move_the_carrier_does_not_allow_is_refused_naming_the_allowed_ones_unless_forced() {
    let platform = strict().await;
    add_order(&platform.url(), platform.token.expose(), "send-2").await;
    assert_eq!(send(&platform, "send-2", "102").run().await.code, 0);
    let run = send(&platform, "send-2", "302").run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains(
            "error: dada cannot move order send-2 from 102 rider_assigned to 302 delivered; allowed next: 201 at_store"
        ) && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(
        order_state(&platform, "send-2").await,
        (102, 1),
        "nothing was sent"
    );

    // --force sends it; the carrier (here the emulator) refuses it: exit 1, as a failed step.
    let run = send(&platform, "send-2", "302").arg("--force").run().await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(
        run.stderr.contains("sending it anyway (--force)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.starts_with("✗ dada order send-2 was not moved from 102 rider_assigned to 302 delivered: resultcode 9102"),
        "{}",
        run.stdout
    );
    assert_eq!(order_state(&platform, "send-2").await, (102, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_order_is_refused_with_nothing_sent_and_credentials_are_a_runs() {
    let platform = strict().await;
    let run = send(&platform, "no-such-order", "102").run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("the platform does not know order no-such-order of shop dadaaee18818d97e236 (order/get answered errcode 930563")
            && run.stderr.contains("nothing was sent"),
        "{}",
        run.stderr
    );
    assert_eq!(platform.calls_received().await, 0, "not even the update");
    // No token and no app credentials: exit 3, as a run.
    let run = Sim::new()
        .args(["send", "--endpoint", &platform.url(), "--carrier", "dada"])
        .args(["--order", "x", "--status", "102"])
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    // An unknown status, a carrier that cannot reach it: exit 2 before anything.
    let run = send(&platform, "x", "9999").run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    let run = send(&platform, "x", "203").run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("dada cannot be moved to 203"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn send_streams_a_runs_events_and_writes_its_json_report() {
    let platform = strict().await;
    add_order(&platform.url(), platform.token.expose(), "send-3").await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("send.json");
    let run = send(&platform, "send-3", "102")
        .args(["--events", "jsonl", "--report-json"])
        .arg(&report)
        // serve's push settings in the environment are no concern of send's.
        .env("SIMULATE_PUSH_TOKEN", "abc")
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let events = validate_events(&run.stdout);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "scenario_started",
            "step_sent",
            "step_answered",
            "step_finished",
            "scenario_finished",
            "run_finished"
        ]
    );
    assert_eq!(events[2]["shop_order_id"], "send-3");
    assert_eq!(events.last().unwrap()["exit_code"], 0);
    // The line for people moves to stderr.
    assert!(
        run.stderr.contains("✓ dada order send-3 moved"),
        "{}",
        run.stderr
    );
    let report = crate::common::read_json(&report);
    crate::common::validate_report(&report);
    run.assert_no_secrets(&[platform.token.expose()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn local_send_tries_the_command_on_a_new_order_of_its_own_emulator() {
    let run = Sim::new()
        .args([
            "send",
            "--local",
            "--carrier",
            "dada",
            "--order",
            "try-1",
            "--status",
            "102",
        ])
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.starts_with(
            "✓ dada order try-1 moved from 101 awaiting_rider (a new order of the local emulator) to 102 rider_assigned: ok ("
        ) && run.stdout.trim_end().ends_with("— against the local emulator, not WeChat"),
        "{}",
        run.stdout
    );
    let run = Sim::new()
        .args([
            "send",
            "--local",
            "--carrier",
            "dada",
            "--order",
            "try-1",
            "--status",
            "302",
        ])
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("allowed next: 102 rider_assigned"),
        "{}",
        run.stderr
    );
    let run = Sim::new()
        .args([
            "--lang",
            "zh",
            "send",
            "--local",
            "--carrier",
            "dada",
            "--order",
            "t",
            "--status",
            "102",
        ])
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("订单 t 已从"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn run_order_plays_one_scenario_on_an_order_created_in_a_serve() {
    let serve = Serve::start(&[]);
    let base = serve.base.clone();
    let token = fetch_token(&base).await;
    add_order(&base, &token, "app-order-1").await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        &dir,
        "dada.yaml",
        "name: Dada to the store\ncarrier: dada\nshop_order_id: file-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 100ms\n",
    );
    let run = Sim::new()
        .args([
            "run",
            "--endpoint",
            &base,
            "--order",
            "app-order-1",
            "--speed",
            "10",
        ])
        .env("WECHAT_ACCESS_TOKEN", &token)
        .path(&file)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("(dada, order app-order-1): 2/2 passed"),
        "{}",
        run.stdout
    );
    let answer = order_get(&base, &token, "app-order-1").await;
    assert_eq!(answer["order_status"], 201, "{answer}");

    // Refused, with a reason and nothing sent: two scenarios, or a repeat above 1.
    let other = write_scenario(
        &dir,
        "other.yaml",
        "carrier: dada\nshop_order_id: o-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new()
        .args(["--endpoint", &base, "--order", "app-order-1"])
        .env("WECHAT_ACCESS_TOKEN", &token)
        .path(&file)
        .path(&other)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("--order moves one existing order, but the run has 2 scenarios (Dada to the store, other)")
            && run.stderr.contains("--only"),
        "{}",
        run.stderr
    );
    let repeated = write_scenario(
        &dir,
        "repeated.yaml",
        "carrier: dada\nshop_order_id: r-{{run_id}}\nrepeat: 3\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new()
        .args(["--endpoint", &base, "--order", "app-order-1"])
        .env("WECHAT_ACCESS_TOKEN", &token)
        .path(&repeated)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("has `repeat: 3`"), "{}", run.stderr);
    assert_eq!(
        order_get(&base, &token, "app-order-1").await["order_status"],
        201,
        "the refused runs sent nothing"
    );

    // And send, with the token fetched from the app credentials as a run does.
    let run = Sim::new()
        .args([
            "send",
            "--endpoint",
            &base,
            "--carrier",
            "dada",
            "--order",
            "app-order-1",
        ])
        .args(["--status", "picked_up"])
        .env("WECHAT_APPID", "wxsimulate0000dev")
        .env("WECHAT_APP_SECRET", "simulate-dev-secret")
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("from 201 at_store to 202 picked_up"),
        "{}",
        run.stdout
    );
    run.assert_no_secrets(&[&token]);
    drop(serve);
}

async fn fetch_token(base: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/cgi-bin/stable_token"))
        .json(&json!({"grant_type": "client_credential", "appid": "wxsimulate0000dev", "secret": "simulate-dev-secret"}))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

async fn order_get(base: &str, token: &str, order: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}{BIZ}/order/get?access_token={token}"))
        .json(&json!({
            "shopid": DADA, "shop_order_id": order,
            "delivery_sign": delivery_sign(DADA, Some(order), &Secret::new(DADA_SECRET)),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_offer_carriers_and_every_status_to_send() {
    let bash = Sim::new().args(["completions", "bash"]).run().await;
    assert_eq!(bash.code, 0, "{}", bash.all_output());
    let send = bash
        .stdout
        .split("simulate__subcmd__send)")
        .nth(1)
        .expect("a case for send");
    let after = |option: &str| {
        send.split(&format!("{option})"))
            .nth(1)
            .and_then(|s| s.lines().nth(1))
            .unwrap_or_default()
            .to_owned()
    };
    let statuses = after("--status");
    for word in ["101", "302", "delivered", "recipient_refused"] {
        assert!(
            statuses.split(['"', ' ']).any(|w| w == word),
            "{word} not offered: {statuses}"
        );
    }
    assert!(
        after("--carrier").contains("dada"),
        "{}",
        after("--carrier")
    );
}
