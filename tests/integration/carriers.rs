//! A carrier added through `--carriers FILE` has every behaviour a built-in one has: its own
//! required order/add fields and its own answer to a wrong signature, honoured by the check,
//! the local emulator and `simulate serve`; and `${VAR}` in the file is read, so that an
//! appsecret kept in the environment signs correctly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use simulate::emulator::{Config, Emulator};
use simulate::model::carriers::Carriers;

use crate::common::*;
use crate::emulator::Served;

const BIZ: &str = "/cgi-bin/express/local/business";
const MTPS_SHOP: &str = "mtps-test-shop";
const MTPS_SECRET: &str = "mtps-secret-value-2";

/// A carrier with quirks of its own: order/add needs the store and an expected delivery time,
/// and a wrong signature gets 40013 美团签名错误.
fn mtps_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    write_scenario(
        dir,
        "carriers.yaml",
        &format!(
            "version: team-2
carriers:
  - id: mtps
    aliases: [meituan]
    delivery_id: MTPS
    name: {{ en: Meituan, zh: 美团配送 }}
    call: realmock
    version: mtps-2
    account:
      shopid: {MTPS_SHOP}
      appsecret: {MTPS_SECRET}
      shop_no: m1
    statuses: [102, 202, 302]
    required:
      order_add: [sender, order_info.expected_delivery_time]
    sign_error: {{ resultcode: 40013, resultmsg: 美团签名错误 }}
"
        ),
    )
}

/// Lowercase hex SHA-1 of shopid + shop_order_id + appsecret, computed here, not by simulate.
fn sha1_hex(shopid: &str, shop_order_id: &str, appsecret: &str) -> String {
    let digest = Sha1::digest(format!("{shopid}{shop_order_id}{appsecret}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_carrier_files_quirks_hold_in_the_check_and_the_local_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let carriers = mtps_file(&dir);
    let sim = || Sim::new().arg("--carriers").path(&carriers);

    // The check reads the profile's `required.order_add`.
    let missing = write_scenario(
        &dir,
        "missing.yaml",
        "carrier: meituan\nshop_order_id: mt-{{run_id}}\norder:\n  sender: ~\nsteps:\n  - status: 102\n",
    );
    let run = sim().arg("check").path(&missing).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains(
            "missing.yaml:3:1: error: mtps needs `expected_delivery_time` in `order.order_info`"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("missing.yaml:4:3: error: mtps needs `sender` in `order`"),
        "{}",
        run.stderr
    );
    // Without the carrier file the same fields are not required of another carrier.
    let dada = write_scenario(
        &dir,
        "dada.yaml",
        "carrier: dada\nshop_order_id: d-{{run_id}}\norder: true\nsteps:\n  - status: 102\n",
    );
    let run = sim().arg("check").path(&dada).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());

    // Given them, the check passes and the local emulator's order/add accepts the order.
    let given = write_scenario(
        &dir,
        "given.yaml",
        "carrier: meituan\nshop_order_id: mt-{{run_id}}\norder:\n  order_info: { expected_delivery_time: 1795990000 }\nsteps:\n  - status: 102\n  - status: 202\n  - status: 302\n",
    );
    let run = sim().arg("check").path(&given).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("carrier table team-2"),
        "{}",
        run.stdout
    );
    let run = sim()
        .args(["--local", "--speed", "100000"])
        .path(&given)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.assert_no_secrets(&[MTPS_SECRET]);

    // A wrong appsecret gets the profile's own sign-error answer from the local emulator.
    let wrong = "carrier: mtps\nshop_order_id: mt-{{run_id}}\nshop: { shopid: mtps-test-shop, appsecret: not-the-secret-1 }\nsteps:\n  - status: 102\n";
    let expected = write_scenario(
        &dir,
        "expected.yaml",
        &format!("{wrong}    expect: {{ resultcode: 40013 }}\n"),
    );
    let run = sim()
        .args(["--local", "--speed", "100000"])
        .path(&expected)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let failing = write_scenario(&dir, "failing.yaml", wrong);
    let run = sim()
        .args(["--local", "--speed", "100000"])
        .path(&failing)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(
        run.all_output().contains("resultcode 40013 美团签名错误"),
        "{}",
        run.all_output()
    );
    run.assert_no_secrets(&[MTPS_SECRET, "not-the-secret-1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn simulate_serve_with_a_carrier_file_answers_as_the_profile_says() {
    let dir = tempfile::tempdir().unwrap();
    let carriers = mtps_file(&dir);
    let carriers = carriers.to_string_lossy().into_owned();
    let served = Served::start(&["--carriers", &carriers]).await.unwrap();
    let token = served.token().await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let add = |body: Value| {
        let request = http
            .post(format!(
                "{}{BIZ}/order/add?access_token={token}",
                served.base
            ))
            .json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let body = |order: &str, sign: String, order_info: Value| {
        json!({
            "shopid": MTPS_SHOP, "shop_order_id": order, "delivery_id": "MTPS",
            "openid": "o-test", "delivery_sign": sign, "shop_no": "m1",
            "sender": { "name": "店", "city": "北京市", "address": "a", "address_detail": "b",
                        "phone": "010-1", "lng": 116.4, "lat": 39.9 },
            "receiver": { "name": "客", "city": "北京市", "address": "c", "address_detail": "d",
                          "phone": "13800138000", "lng": 116.41, "lat": 39.91 },
            "cargo": { "goods_value": 10, "goods_weight": 1,
                       "cargo_first_class": "其他", "cargo_second_class": "其他" },
            "order_info": order_info,
            "shop": { "wxa_path": "/p", "img_url": "https://x/y.png", "goods_name": "g", "goods_count": 1 },
        })
    };
    let info = json!({ "order_type": 0, "order_time": 1_795_900_000, "expected_delivery_time": 1_795_990_000 });

    // The profile's required field, missing: a platform-level args error.
    let answer = add(body(
        "S-1",
        sha1_hex(MTPS_SHOP, "S-1", MTPS_SECRET),
        json!({ "order_type": 0 }),
    ))
    .await;
    assert_eq!(answer["errcode"], 930_561, "{answer}");
    assert!(
        answer["errmsg"]
            .as_str()
            .is_some_and(|m| m.contains("order_info.expected_delivery_time is required for MTPS")),
        "{answer}"
    );
    // A wrong signature: the profile's own resultcode and resultmsg.
    let answer = add(body("S-2", "0".repeat(40), info.clone())).await;
    assert_eq!(
        (&answer["errcode"], &answer["resultcode"]),
        (&json!(0), &json!(40013)),
        "{answer}"
    );
    assert!(
        answer["resultmsg"]
            .as_str()
            .is_some_and(|m| m.starts_with("美团签名错误")),
        "{answer}"
    );
    // Both right: created.
    let answer = add(body("S-3", sha1_hex(MTPS_SHOP, "S-3", MTPS_SECRET), info)).await;
    assert_eq!(answer["resultcode"], 0, "{answer}");
    assert_eq!(answer["order_status"], 101, "{answer}");
    let log = served.stop().await.unwrap();
    assert!(!log.contains(MTPS_SECRET), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn variables_in_a_carrier_file_sign_with_the_secret_they_read() {
    const SHOP: &str = "fn-shop-from-env";
    const SECRET: &str = "fn-secret-from-env-31";
    let dir = tempfile::tempdir().unwrap();
    let carriers = write_scenario(
        &dir,
        "fn.yaml",
        "carriers:\n  - id: fengniao\n    delivery_id: FENGNIAO\n    name: { en: Fengniao, zh: 蜂鸟 }\n    call: realmock\n    version: fn-1\n    account:\n      shopid: ${FN_SHOP}\n      appsecret: ${FN_SECRET}\n      shop_no: fn-1\n    statuses: [102, 202, 302]\n",
    );
    let scenario_path = write_scenario(
        &dir,
        "fn_run.yaml",
        "carrier: fengniao\nshop_order_id: fn-{{run_id}}\nsteps:\n  - status: 102\n  - status: 202\n",
    );

    // Unset, each variable is a located problem of the carrier file.
    let run = Sim::new()
        .arg("--carriers")
        .path(&carriers)
        .arg("check")
        .path(&scenario_path)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    for problem in [
        "fn.yaml:8:15: error: environment variable `FN_SHOP` is not set (used in `shopid`)",
        "fn.yaml:9:18: error: environment variable `FN_SECRET` is not set (used in `appsecret`)",
    ] {
        assert!(run.stderr.contains(problem), "{}", run.stderr);
    }

    // An emulator holding the same table, read with the same environment, checks the
    // signatures the run sends.
    let env = simulate::base::env::Env::from([
        ("FN_SHOP".to_owned(), SHOP.to_owned()),
        ("FN_SECRET".to_owned(), SECRET.to_owned()),
    ]);
    let table = Carriers::load(Some(&carriers), &env).expect("the carrier file loads");
    let emulator = Emulator::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(table),
        Config {
            auto_create: true,
            // The signature is checked below; the history shows it only when asked.
            show_signatures: true,
            ..Config::default()
        },
    )
    .await
    .expect("emulator starts");
    let token = emulator.issue_token();
    let run = Sim::new()
        .arg("--carriers")
        .path(&carriers)
        .args(["--endpoint", &emulator.base_url(), "--speed", "100000"])
        .env("WECHAT_ACCESS_TOKEN", token.expose())
        .env("FN_SHOP", SHOP)
        .env("FN_SECRET", SECRET)
        .path(&scenario_path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.assert_no_secrets(&[SECRET]);

    // What the emulator received: signed with the value of FN_SECRET, not the text `${FN_SECRET}`.
    let orders: Value = reqwest::get(format!("{}/__simulate/orders", emulator.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order = orders_list(&orders)
        .into_iter()
        .find(|o| o["shopid"] == SHOP)
        .unwrap_or_else(|| panic!("no order for {SHOP}: {orders}"));
    let id = order["shop_order_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("fn-"), "{order}");
    let calls: Vec<&Value> = order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["api"] == "realmock_update_order")
        .collect();
    assert_eq!(calls.len(), 2, "{order}");
    for call in calls {
        assert_eq!(
            call["request"]["delivery_sign"],
            sha1_hex(SHOP, &id, SECRET).as_str()
        );
        assert_ne!(
            call["request"]["delivery_sign"],
            sha1_hex(SHOP, &id, "${FN_SECRET}").as_str()
        );
        assert_eq!(call["verdict"]["resultcode"], 0, "{call}");
    }
    emulator.shutdown().await;
}
