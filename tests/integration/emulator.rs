//! The emulator in-process, driven over loopback with reqwest.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simulate::base::secret::Secret;
use simulate::emulator::{Config, Emulator, PushFormat, parse_faults};
use simulate::model::carriers::Carriers;
use simulate::wechat::sign::delivery_sign;

use crate::accounts::*;

pub(crate) type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SANDBOX: &str = "test_shop_id";
const SANDBOX_SECRET: &str = "test_app_secrect";

fn sign(shopid: &str, order: &str, secret: &str) -> String {
    delivery_sign(shopid, Some(order), &Secret::new(secret))
}

fn secret_of(shopid: &str) -> &'static str {
    match shopid {
        DADA => DADA_SECRET,
        SF => SF_SECRET,
        _ => SANDBOX_SECRET,
    }
}

fn delivery_id_of(shopid: &str) -> &'static str {
    match shopid {
        DADA => "DADA",
        SF => "SFTC",
        _ => "TEST",
    }
}

/// A complete `order/add` body for a test account.
fn add_body(shopid: &str, order: &str) -> Value {
    json!({
        "shopid": shopid,
        "shop_order_id": order,
        "delivery_id": delivery_id_of(shopid),
        "delivery_sign": sign(shopid, order, secret_of(shopid)),
        "openid": "oTESTopenid000000000000000000",
        "sender": { "name": "店", "city": "广州", "address": "a", "address_detail": "b",
                    "phone": "020-1", "lng": 113.32452, "lat": 23.099994 },
        "receiver": { "name": "客", "city": "广州", "address": "c", "address_detail": "d",
                      "phone": "13800000000", "lng": 113.34, "lat": 23.11 },
        "cargo": { "goods_value": 10, "goods_weight": 1,
                   "cargo_first_class": "其他", "cargo_second_class": "其他" },
        "order_info": { "order_type": 0, "order_time": now() },
        "shop": { "wxa_path": "/p", "img_url": "https://x/y.png", "goods_name": "g", "goods_count": 1 },
    })
}

/// A signed `realmock_update_order` body (the signature is dropped for the sandbox).
fn update_body(shopid: &str, order: &str, status: u16) -> Value {
    json!({
        "shopid": shopid,
        "shop_order_id": order,
        "order_status": status,
        "action_time": now(),
        "action_msg": format!("to {status}"),
        "delivery_sign": sign(shopid, order, secret_of(shopid)),
    })
}

struct Env {
    emu: Emulator,
    http: reqwest::Client,
    token: String,
}

impl Env {
    async fn start(config: Config) -> TestResult<Env> {
        let carriers = Carriers::builtin().map_err(|d| format!("{d:?}"))?;
        let emu = Emulator::start("127.0.0.1:0".parse()?, Arc::new(carriers), config).await?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()?;
        let token = emu.issue_token().expose().to_owned();
        Ok(Env { emu, http, token })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url())
    }

    /// POSTs raw text with an optional token; (HTTP status, body text).
    async fn raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: String,
    ) -> TestResult<(u16, String)> {
        let url = match token {
            Some(t) => format!("{}?access_token={t}", self.url(path)),
            None => self.url(path),
        };
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// A business call with the emulator's token; the JSON answer.
    async fn call(&self, api: &str, body: Value) -> TestResult<Value> {
        let (status, text) = self
            .raw(&format!("{BIZ}/{api}"), Some(&self.token), body.to_string())
            .await?;
        if status != 200 {
            return Err(format!("HTTP {status}: {text}").into());
        }
        Ok(serde_json::from_str(&text)?)
    }

    async fn get_json(&self, path: &str) -> TestResult<(u16, Value)> {
        let response = self.http.get(self.url(path)).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    async fn order(&self, shopid: &str, order: &str) -> TestResult<Value> {
        let (status, body) = self
            .get_json(&format!("/__simulate/orders/{shopid}/{order}"))
            .await?;
        if status != 200 {
            return Err(format!("inspection HTTP {status}: {body}").into());
        }
        Ok(body)
    }

    /// Waits until the order's history holds `count` push attempts.
    async fn pushes(&self, shopid: &str, order: &str, count: usize) -> TestResult<Vec<Value>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let view = self.order(shopid, order).await?;
            let pushes: Vec<Value> = history(&view)
                .into_iter()
                .filter(|e| e["kind"] == "push")
                .collect();
            if pushes.len() >= count || Instant::now() > deadline {
                return Ok(pushes);
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

fn history(view: &Value) -> Vec<Value> {
    view["history"].as_array().cloned().unwrap_or_default()
}

fn code(answer: &Value, field: &str) -> i64 {
    answer[field].as_i64().unwrap_or(i64::MIN)
}

fn msg(answer: &Value, field: &str) -> String {
    answer[field].as_str().unwrap_or_default().to_owned()
}

/// `... rid: xxxxxxxx-xxxxxxxx-xxxxxxxx` at the end of an errmsg.
fn has_rid(errmsg: &str) -> bool {
    let Some((_, rid)) = errmsg.rsplit_once(" rid: ") else {
        return false;
    };
    let parts: Vec<&str> = rid.split('-').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 8 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Adds an order and checks it was accepted.
async fn add(env: &Env, shopid: &str, order: &str) -> TestResult<Value> {
    let answer = env.call("order/add", add_body(shopid, order)).await?;
    if code(&answer, "errcode") != 0 || code(&answer, "resultcode") != 0 {
        return Err(format!("add refused: {answer}").into());
    }
    Ok(answer)
}

async fn realmock(env: &Env, body: Value) -> TestResult<Value> {
    env.call("realmock_update_order", body).await
}

fn ok(answer: &Value) -> bool {
    code(answer, "errcode") == 0 && code(answer, "resultcode") == 0
}

// ---------------------------------------------------------------------------------------------
// Tokens

async fn classic_token(env: &Env, appid: &str, secret: &str, grant: &str) -> TestResult<Value> {
    let path = format!("/cgi-bin/token?grant_type={grant}&appid={appid}&secret={secret}");
    Ok(env.get_json(&path).await?.1)
}

async fn stable_token(env: &Env, body: &Value) -> TestResult<Value> {
    let (_, text) = env
        .raw("/cgi-bin/stable_token", None, body.to_string())
        .await?;
    Ok(serde_json::from_str(&text)?)
}

async fn shop_get(env: &Env, token: &str) -> TestResult<Value> {
    let (_, text) = env
        .raw(&format!("{BIZ}/shop/get"), Some(token), "{}".into())
        .await?;
    Ok(serde_json::from_str(&text)?)
}

const APPID: &str = "wxsimulate0000dev";
const APP_SECRET: &str = "simulate-dev-secret";
const GRANT: &str = "client_credential";

#[tokio::test]
async fn classic_and_stable_tokens_are_issued_and_refused_as_documented() -> TestResult {
    let env = Env::start(Config::default()).await?;
    let first = classic_token(&env, APPID, APP_SECRET, GRANT).await?;
    assert_eq!(first["expires_in"], 7200, "{first}");
    let first_token = msg(&first, "access_token");
    assert!(first_token.len() >= 100, "{first}");
    let second = classic_token(&env, APPID, APP_SECRET, GRANT).await?;
    let second_token = msg(&second, "access_token");
    assert_ne!(
        first_token, second_token,
        "classic issues a new token each call"
    );
    // The superseded token still works during the 5-minute overlap.
    for token in [&first_token, &second_token] {
        let answer = shop_get(&env, token).await?;
        assert!(ok(&answer), "{answer}");
        assert_eq!(
            answer["shop_list"].as_array().map(Vec::len),
            // SF, Dada, the sandbox, 闪送 and MTPS.
            Some(5),
            "{answer}"
        );
    }

    let bad_appid = classic_token(&env, "wxnobody", APP_SECRET, GRANT).await?;
    assert_eq!(code(&bad_appid, "errcode"), 40013, "{bad_appid}");
    let bad_secret = classic_token(&env, APPID, "wrong", GRANT).await?;
    assert_eq!(code(&bad_secret, "errcode"), 40125, "{bad_secret}");
    assert!(
        msg(&bad_secret, "errmsg").starts_with("invalid appsecret rid: "),
        "{bad_secret}"
    );
    let bad_grant = classic_token(&env, APPID, APP_SECRET, "password").await?;
    assert_eq!(code(&bad_grant, "errcode"), 40002, "{bad_grant}");
    assert!(has_rid(&msg(&bad_grant, "errmsg")), "{bad_grant}");

    let good =
        json!({"grant_type": GRANT, "appid": APPID, "secret": APP_SECRET, "force_refresh": false});
    let a = stable_token(&env, &good).await?;
    let b = stable_token(&env, &good).await?;
    assert_eq!(
        a["access_token"], b["access_token"],
        "normal mode reuses the token"
    );
    assert!(code(&a, "expires_in") > 7000, "{a}");
    let mut forced = good.clone();
    forced["force_refresh"] = json!(true);
    let c = stable_token(&env, &forced).await?;
    assert_ne!(a["access_token"], c["access_token"]);
    assert!(ok(&shop_get(&env, &msg(&c, "access_token")).await?));
    let old = shop_get(&env, &msg(&a, "access_token")).await?;
    assert_eq!(
        code(&old, "errcode"),
        40001,
        "force_refresh retires the old token: {old}"
    );

    for (field, value, errcode) in [
        ("appid", "wxnobody", 40013),
        ("secret", "nope", 40125),
        ("grant_type", "x", 40002),
    ] {
        let mut body = good.clone();
        body[field] = json!(value);
        let answer = stable_token(&env, &body).await?;
        assert_eq!(code(&answer, "errcode"), errcode, "{field}: {answer}");
    }
    let (_, text) = env
        .raw("/cgi-bin/stable_token", None, "grant_type=x".into())
        .await?;
    let not_json: Value = serde_json::from_str(&text)?;
    assert_eq!(code(&not_json, "errcode"), 47001);
    env.emu.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn tokens_expire_after_their_ttl() -> TestResult {
    let env = Env::start(Config {
        token_ttl: Duration::from_secs(1),
        ..Config::default()
    })
    .await?;
    let issued = classic_token(&env, APPID, APP_SECRET, GRANT).await?;
    assert_eq!(issued["expires_in"], 1);
    let token = msg(&issued, "access_token");
    assert!(ok(&shop_get(&env, &token).await?));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let expired = shop_get(&env, &token).await?;
    assert_eq!(code(&expired, "errcode"), 42001, "{expired}");
    assert!(has_rid(&msg(&expired, "errmsg")));
    let stale_local = shop_get(&env, &env.token).await?;
    assert_eq!(code(&stale_local, "errcode"), 42001, "{stale_local}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Platform-level refusals

#[tokio::test]
async fn missing_tokens_bad_json_and_bad_fields_are_refused() -> TestResult {
    let env = Env::start(Config::default()).await?;
    let path = format!("{BIZ}/realmock_update_order");
    let body = update_body(DADA, "R-1", 102).to_string();

    let (status, text) = env.raw(&path, None, body.clone()).await?;
    let answer: Value = serde_json::from_str(&text)?;
    assert_eq!(status, 200);
    assert_eq!(code(&answer, "errcode"), 41001, "no token at all: {answer}");
    assert!(has_rid(&msg(&answer, "errmsg")), "{answer}");
    {
        let (status, text) = env.raw(&path, Some("not-a-token"), body.clone()).await?;
        let answer: Value = serde_json::from_str(&text)?;
        assert_eq!(status, 200);
        assert_eq!(code(&answer, "errcode"), 40001, "{answer}");
        let errmsg = msg(&answer, "errmsg");
        assert!(
            errmsg.starts_with("invalid credential, access_token is invalid or not latest rid: "),
            "{errmsg}"
        );
        assert!(has_rid(&errmsg), "{errmsg}");
    }
    let (_, text) = env.raw(&path, Some(&env.token), "{not json".into()).await?;
    let answer: Value = serde_json::from_str(&text)?;
    assert_eq!(code(&answer, "errcode"), 47001, "{answer}");

    let mut missing = update_body(DADA, "R-1", 102);
    if let Some(map) = missing.as_object_mut() {
        map.remove("shop_order_id");
    }
    let answer = realmock(&env, missing).await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");
    assert!(msg(&answer, "errmsg").contains("shop_order_id"), "{answer}");

    let mut ill_typed = update_body(DADA, "R-1", 102);
    ill_typed["order_status"] = json!("102");
    let answer = realmock(&env, ill_typed).await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");
    assert!(msg(&answer, "errmsg").contains("order_status"), "{answer}");

    let mut unknown_status = update_body(DADA, "R-1", 102);
    unknown_status["order_status"] = json!(999);
    assert_eq!(
        code(&realmock(&env, unknown_status).await?, "errcode"),
        930561
    );

    // An unknown order is refused before anything else about it is judged.
    let answer = realmock(&env, update_body(DADA, "R-1", 102)).await?;
    assert_eq!(code(&answer, "errcode"), 930563, "{answer}");
    Ok(())
}

#[tokio::test]
async fn action_time_must_be_current_unix_seconds() -> TestResult {
    let env = Env::start(Config::default()).await?;
    add(&env, DADA, "T-1").await?;
    let mut millis = update_body(DADA, "T-1", 102);
    millis["action_time"] = json!(now() * 1000);
    let answer = realmock(&env, millis).await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");
    assert!(msg(&answer, "errmsg").contains("milliseconds"), "{answer}");

    let mut stale = update_body(DADA, "T-1", 102);
    stale["action_time"] = json!(now() - 3600);
    let answer = realmock(&env, stale).await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");
    assert!(msg(&answer, "errmsg").contains("behind"), "{answer}");

    let mut spaced = update_body(DADA, "T-1", 102);
    spaced["delivery_sign"] = json!(format!("{} ", sign(DADA, "T-1", DADA_SECRET)));
    let answer = realmock(&env, spaced).await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");

    // Within the skew is fine.
    let mut recent = update_body(DADA, "T-1", 102);
    recent["action_time"] = json!(now() - 60);
    assert!(ok(&realmock(&env, recent).await?));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Orders

#[tokio::test]
async fn orders_are_added_quoted_read_cancelled_and_not_duplicated() -> TestResult {
    let env = Env::start(Config::default()).await?;
    let added = add(&env, DADA, "O-1").await?;
    assert_eq!(added["order_status"], 101, "{added}");
    assert_eq!(added["errmsg"], "ok");
    assert_eq!(added["resultmsg"], "ok");
    let waybill = msg(&added, "waybill_id");
    assert!(!waybill.is_empty());
    assert!(added["fee"].as_f64().unwrap_or(0.0) > 0.0, "{added}");
    assert!(
        added["distance"].as_f64().unwrap_or(0.0) > 1000.0,
        "{added}"
    );

    let duplicate = env.call("order/add", add_body(DADA, "O-1")).await?;
    assert_eq!(code(&duplicate, "errcode"), 930562, "{duplicate}");

    let quote = env.call("order/pre_add", add_body(DADA, "O-2")).await?;
    assert!(ok(&quote), "{quote}");
    assert!(quote["fee"].as_f64().unwrap_or(0.0) > 0.0, "{quote}");
    assert!(
        quote.get("waybill_id").is_none(),
        "pre_add creates nothing: {quote}"
    );

    let get_body = |order: &str| json!({"shopid": DADA, "shop_order_id": order, "delivery_sign": sign(DADA, order, DADA_SECRET)});
    let got = env.call("order/get", get_body("O-1")).await?;
    assert!(ok(&got), "{got}");
    assert_eq!(got["order_status"], 101);
    assert_eq!(got["waybill_id"], waybill.as_str());
    assert_eq!(got["rider_name"], "");
    let missing = env.call("order/get", get_body("O-2")).await?;
    assert_eq!(code(&missing, "errcode"), 930563, "{missing}");

    let cancel_body = json!({
        "shopid": DADA, "shop_order_id": "O-1", "delivery_id": "DADA", "cancel_reason_id": 1,
        "delivery_sign": sign(DADA, "O-1", DADA_SECRET), "shop_no": "77071-47913",
    });
    let cancelled = env.call("order/cancel", cancel_body.clone()).await?;
    assert!(ok(&cancelled), "{cancelled}");
    assert_eq!(cancelled["deduct_fee"], 0.0);
    let got = env.call("order/get", get_body("O-1")).await?;
    assert_eq!(got["order_status"], 103, "{got}");
    let again = env.call("order/cancel", cancel_body).await?;
    assert_eq!(code(&again, "errcode"), 930565, "{again}");

    // Cancel during pickup gives 203.
    add(&env, DADA, "O-3").await?;
    for status in [102, 201] {
        assert!(ok(&realmock(&env, update_body(DADA, "O-3", status)).await?));
    }
    let cancelled = env
        .call(
            "order/cancel",
            json!({"shopid": DADA, "shop_order_id": "O-3", "delivery_id": "DADA",
                   "cancel_reason_id": 6, "cancel_reason": "买错了",
                   "delivery_sign": sign(DADA, "O-3", DADA_SECRET)}),
        )
        .await?;
    assert!(ok(&cancelled), "{cancelled}");
    // Within Dada's free minute after the rider was assigned (its profile's grace_seconds).
    assert_eq!(cancelled["deduct_fee"], 0.0);
    assert_eq!(env.order(DADA, "O-3").await?["status"]["code"], 203);

    // Binding: unknown shopid, or a shopid under another carrier's delivery_id.
    let mut stranger = add_body(DADA, "O-4");
    stranger["shopid"] = json!("someone-else");
    assert_eq!(
        code(&env.call("order/add", stranger).await?, "errcode"),
        930560
    );
    let mut crossed = add_body(DADA, "O-4");
    crossed["delivery_id"] = json!("SFTC");
    let answer = env.call("order/add", crossed).await?;
    assert_eq!(code(&answer, "errcode"), 930560, "{answer}");
    assert!(msg(&answer, "errmsg").contains("DADA"), "{answer}");
    let mut no_receiver = add_body(DADA, "O-4");
    if let Some(map) = no_receiver.as_object_mut() {
        map.remove("receiver");
    }
    assert_eq!(
        code(&env.call("order/add", no_receiver).await?, "errcode"),
        930561
    );

    // Signature checked on add, with the carrier's code and zero business fields.
    let mut bad_sign = add_body(DADA, "O-4");
    bad_sign["delivery_sign"] = json!(sign(DADA, "O-4", "not-the-secret"));
    let answer = env.call("order/add", bad_sign).await?;
    assert_eq!(code(&answer, "errcode"), 0);
    assert_eq!(code(&answer, "resultcode"), 2003, "{answer}");
    assert_eq!(answer["waybill_id"], "");

    // SF and the sandbox take orders too.
    add(&env, SF, "O-5").await?;
    let sandbox = add(&env, SANDBOX, "O-6").await?;
    assert_eq!(sandbox["order_status"], 101);
    Ok(())
}

#[tokio::test]
async fn a_dada_order_is_delivered_through_realmock() -> TestResult {
    let env = Env::start(Config::default()).await?;
    add(&env, DADA, "H-1").await?;
    for status in [102, 201, 202, 301] {
        let answer = realmock(&env, update_body(DADA, "H-1", status)).await?;
        assert_eq!(
            answer,
            json!({"errcode":0,"errmsg":"ok","resultcode":0,"resultmsg":"ok"}),
            "to {status}"
        );
    }
    let got = env
        .call(
            "order/get",
            json!({"shopid": DADA, "shop_order_id": "H-1", "delivery_sign": sign(DADA, "H-1", DADA_SECRET)}),
        )
        .await?;
    assert_eq!(got["order_status"], 301);
    assert!(!msg(&got, "rider_name").is_empty(), "{got}");
    assert_eq!(msg(&got, "rider_phone").len(), 11, "{got}");
    assert!(got["rider_lng"].as_f64().unwrap_or(0.0) > 100.0, "{got}");
    assert!(got["rider_lat"].as_f64().unwrap_or(0.0) > 20.0, "{got}");
    let reach = got["reach_time"].as_i64().unwrap_or(-1);
    assert!((1..=1200).contains(&reach), "seconds remaining: {got}");

    assert!(ok(&realmock(&env, update_body(DADA, "H-1", 302)).await?));
    let view = env.order(DADA, "H-1").await?;
    assert_eq!(view["status"]["code"], 302);
    assert_eq!(view["status"]["name"], "delivered");
    assert_eq!(view["status"]["terminal"], "success");
    let changes: Vec<(i64, i64)> = history(&view)
        .iter()
        .filter_map(|e| {
            Some((
                e["status_change"]["from"].as_i64()?,
                e["status_change"]["to"].as_i64()?,
            ))
        })
        .collect();
    assert_eq!(
        changes,
        [(101, 102), (102, 201), (201, 202), (202, 301), (301, 302)]
    );

    let after = realmock(&env, update_body(DADA, "H-1", 302)).await?;
    assert_eq!(code(&after, "errcode"), 930565, "{after}");
    Ok(())
}

#[tokio::test]
async fn carriers_reject_bad_signatures_statuses_and_transitions() -> TestResult {
    let env = Env::start(Config::default()).await?;
    add(&env, DADA, "C-1").await?;
    add(&env, SF, "C-2").await?;

    let mut wrong = update_body(DADA, "C-1", 102);
    wrong["delivery_sign"] = json!(sign(DADA, "C-1", SF_SECRET));
    let answer = realmock(&env, wrong).await?;
    assert_eq!(code(&answer, "errcode"), 0, "{answer}");
    assert_eq!(code(&answer, "resultcode"), 2003, "{answer}");
    assert!(
        msg(&answer, "resultmsg").starts_with("签名错误"),
        "{answer}"
    );

    let mut upper = update_body(DADA, "C-1", 102);
    upper["delivery_sign"] = json!(sign(DADA, "C-1", DADA_SECRET).to_uppercase());
    let answer = realmock(&env, upper).await?;
    assert_eq!(code(&answer, "resultcode"), 2003);
    assert!(msg(&answer, "resultmsg").contains("upper-case"), "{answer}");

    let mut sf_wrong = update_body(SF, "C-2", 102);
    sf_wrong["delivery_sign"] = json!("0".repeat(40));
    let answer = realmock(&env, sf_wrong).await?;
    assert_eq!(code(&answer, "resultcode"), 1, "{answer}");
    assert!(
        msg(&answer, "resultmsg").starts_with("签名校验失败"),
        "{answer}"
    );

    let answer = realmock(&env, update_body(DADA, "C-1", 303)).await?;
    assert_eq!(code(&answer, "errcode"), 0);
    assert_eq!(code(&answer, "resultcode"), 9101, "{answer}");
    assert!(
        msg(&answer, "resultmsg").contains("not supported"),
        "{answer}"
    );
    assert!(
        msg(&answer, "resultmsg").contains("304"),
        "lists the supported set: {answer}"
    );

    let answer = realmock(&env, update_body(DADA, "C-1", 302)).await?;
    assert_eq!(code(&answer, "resultcode"), 9102, "{answer}");
    let text = msg(&answer, "resultmsg");
    assert!(
        text.contains("from 101 awaiting_rider to 302 delivered"),
        "{text}"
    );
    assert!(text.contains("allowed next: 102 rider_assigned"), "{text}");

    // SF skips 201: 102 -> 202 is fine, 202 -> 301 is not supported.
    assert!(ok(&realmock(&env, update_body(SF, "C-2", 102)).await?));
    assert!(ok(&realmock(&env, update_body(SF, "C-2", 202)).await?));
    let answer = realmock(&env, update_body(SF, "C-2", 301)).await?;
    assert_eq!(code(&answer, "resultcode"), 9101, "{answer}");

    // Rejections leave the order where it was, and are in its history.
    let view = env.order(DADA, "C-1").await?;
    assert_eq!(view["status"]["code"], 101);
    let verdicts: Vec<i64> = history(&view)
        .iter()
        .filter(|e| e["kind"] == "call")
        .filter_map(|e| e["verdict"]["resultcode"].as_i64())
        .collect();
    assert_eq!(verdicts, [0, 2003, 2003, 9101, 9102]);
    Ok(())
}

#[tokio::test]
async fn sandbox_and_carrier_orders_need_their_own_update_api() -> TestResult {
    let env = Env::start(Config::default()).await?;
    add(&env, SANDBOX, "S-1").await?;
    add(&env, DADA, "S-2").await?;

    let answer = realmock(&env, update_body(SANDBOX, "S-1", 102)).await?;
    assert_eq!(code(&answer, "errcode"), 930557, "{answer}");
    assert!(
        msg(&answer, "errmsg").starts_with("delivery system error"),
        "{answer}"
    );

    let mut sandbox = update_body(SANDBOX, "S-1", 102);
    if let Some(map) = sandbox.as_object_mut() {
        map.remove("delivery_sign");
    }
    let answer = env.call("test_update_order", sandbox).await?;
    assert!(ok(&answer), "{answer}");
    let view = env.order(SANDBOX, "S-1").await?;
    assert_eq!(view["status"]["code"], 102);
    assert_eq!(view["carrier"]["delivery_id"], "TEST");

    let answer = env
        .call("test_update_order", update_body(DADA, "S-2", 102))
        .await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");
    assert!(
        msg(&answer, "errmsg").contains("realmock_update_order"),
        "{answer}"
    );
    let answer = env
        .call("test_update_order", update_body("other_shop", "S-3", 102))
        .await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");
    let answer = env
        .call("test_update_order", update_body(SANDBOX, "S-404", 102))
        .await?;
    assert_eq!(code(&answer, "errcode"), 930563, "{answer}");
    Ok(())
}

#[tokio::test]
async fn auto_create_opens_unknown_orders_at_101_first() -> TestResult {
    let off = Env::start(Config::default()).await?;
    let answer = realmock(&off, update_body(DADA, "A-1", 102)).await?;
    assert_eq!(code(&answer, "errcode"), 930563, "{answer}");
    let (status, _) = off
        .get_json(&format!("/__simulate/orders/{DADA}/A-1"))
        .await?;
    assert_eq!(status, 404);

    let on = Env::start(Config {
        auto_create: true,
        ..Config::default()
    })
    .await?;
    assert!(ok(&realmock(&on, update_body(DADA, "A-1", 102)).await?));
    let view = on.order(DADA, "A-1").await?;
    assert_eq!(view["status"]["code"], 102);
    let entries = history(&view);
    assert_eq!(entries[0]["kind"], "created");
    assert_eq!(entries[0]["via"], "auto_create");
    assert_eq!(entries[1]["status_change"], json!({"from": 101, "to": 102}));
    // Auto-create still checks what can be checked.
    let answer = realmock(&on, update_body(DADA, "A-2", 302)).await?;
    assert_eq!(code(&answer, "resultcode"), 9102, "{answer}");
    let answer = realmock(&on, update_body("nobody", "A-3", 102)).await?;
    assert_eq!(code(&answer, "errcode"), 930560, "{answer}");
    let answer = realmock(&on, update_body(SANDBOX, "A-4", 102)).await?;
    assert_eq!(code(&answer, "errcode"), 930557, "{answer}");
    Ok(())
}

#[tokio::test]
async fn undocumented_fields_are_tolerated_and_noted_and_nothing_secret_is_kept() -> TestResult {
    // The kept signature is checked below: shown only when asked for.
    let env = Env::start(Config {
        show_signatures: true,
        ..Config::default()
    })
    .await?;
    let added = add(&env, DADA, "X-1").await?;
    let mut body = update_body(DADA, "X-1", 102);
    body["waybill_id"] = added["waybill_id"].clone();
    body["shop_no"] = json!("77071-47913");
    // WxJava is known to serialise the carrier secret; it must not be kept.
    body["appSecret"] = json!(DADA_SECRET);
    assert!(ok(&realmock(&env, body).await?));
    let view = env.order(DADA, "X-1").await?;
    let call = history(&view)
        .into_iter()
        .rfind(|e| e["kind"] == "call")
        .unwrap_or_default();
    assert_eq!(call["api"], "realmock_update_order");
    assert_eq!(
        call["tolerated_fields"],
        json!(["appSecret", "shop_no", "waybill_id"])
    );
    assert_eq!(
        call["request"]["delivery_sign"],
        sign(DADA, "X-1", DADA_SECRET).as_str()
    );
    assert_eq!(call["request"]["shop_no"], "77071-47913");
    assert_eq!(call["verdict"]["resultcode"], 0);

    let (_, everything) = env.get_json("/__simulate/orders").await?;
    let text = everything.to_string();
    assert!(
        !text.contains(&env.token),
        "no access token in the inspection"
    );
    assert!(
        !text.contains(DADA_SECRET),
        "no carrier appsecret in the inspection"
    );
    assert!(!text.contains("simulate-dev-secret"));
    Ok(())
}

#[tokio::test]
async fn inspection_lists_orders_and_answers_404_for_unknown_ones() -> TestResult {
    let env = Env::start(Config::default()).await?;
    add(&env, DADA, "I-1").await?;
    add(&env, SF, "I-2").await?;
    assert!(ok(&realmock(&env, update_body(SF, "I-2", 102)).await?));
    // A call for an unknown order is kept among the unmatched calls.
    realmock(&env, update_body(SF, "I-404", 102)).await?;

    let (status, all) = env.get_json("/__simulate/orders").await?;
    assert_eq!(status, 200);
    let orders = all["orders"].as_array().cloned().unwrap_or_default();
    assert_eq!(orders.len(), 2, "{all}");
    let sf = orders
        .iter()
        .find(|o| o["shop_order_id"] == "I-2")
        .cloned()
        .unwrap_or_default();
    assert_eq!(sf["carrier"]["id"], "sftc");
    assert_eq!(sf["carrier"]["delivery_id"], "SFTC");
    assert_eq!(
        sf["status"],
        json!({"code": 102, "name": "rider_assigned", "label": "rider assigned", "terminal": null})
    );
    assert!(msg(&sf, "waybill_id").starts_with("SIMSFTC"), "{sf}");
    assert_eq!(sf["shop_no"], "3243279847393");
    assert!(sf["rider"]["name"].is_string(), "{sf}");
    let kinds: Vec<String> = history(&sf).iter().map(|e| msg(e, "kind")).collect();
    assert_eq!(kinds, ["created", "call", "call"]);
    let unmatched = all["unmatched_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(unmatched.len(), 1, "{all}");
    assert_eq!(unmatched[0]["verdict"]["errcode"], 930563);
    assert_eq!(unmatched[0]["shop_order_id"], "I-404");

    let (status, missing) = env
        .get_json(&format!("/__simulate/orders/{SF}/nope"))
        .await?;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "no such order");
    // Not a bare 404: the platform's own answer for a path it does not know.
    let (status, nowhere) = env.get_json("/nowhere").await?;
    assert_eq!(status, 200);
    assert_eq!(nowhere["errcode"], 40066, "{nowhere}");
    assert!(has_rid(&msg(&nowhere, "errmsg")), "{nowhere}");
    // A listing asked for a limit that is no number is refused, not silently unlimited.
    for query in ["limit=abc", "offset=-1"] {
        let (status, refused) = env.get_json(&format!("/__simulate/orders?{query}")).await?;
        assert_eq!(status, 400, "{query}: {refused}");
        let name = query.split('=').next().unwrap_or_default();
        assert_eq!(refused["parameter"], name, "{refused}");
        assert!(
            refused["error"]
                .as_str()
                .unwrap_or_default()
                .contains("must be a whole number"),
            "{refused}"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pushes

#[derive(Clone, Copy)]
enum Mode {
    Accept,
    FailFirst(u32),
    AlwaysFail,
    SlowFirst(Duration),
}

struct Receiver {
    url: String,
    hits: Arc<AtomicU32>,
    got: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    async fn start(mode: Mode) -> TestResult<Receiver> {
        let hits = Arc::new(AtomicU32::new(0));
        let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let (h, g) = (hits.clone(), got.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let (hits, got) = (h.clone(), g.clone());
                async move {
                    let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let fail = match mode {
                        Mode::Accept => false,
                        Mode::FailFirst(k) => n <= k,
                        Mode::AlwaysFail => true,
                        Mode::SlowFirst(delay) => {
                            if n == 1 {
                                tokio::time::sleep(delay).await;
                            }
                            false
                        }
                    };
                    if fail {
                        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "no");
                    }
                    if let Ok(mut got) = got.lock() {
                        got.push((content_type, body));
                    }
                    (axum::http::StatusCode::OK, "success")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Receiver { url, hits, got })
    }

    fn received(&self) -> Vec<(String, String)> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

fn push_config(receiver: &Receiver) -> Config {
    Config {
        callback: Some(receiver.url.clone()),
        ..Config::default()
    }
}

#[tokio::test]
async fn every_accepted_change_is_pushed_in_order_as_json() -> TestResult {
    let receiver = Receiver::start(Mode::Accept).await?;
    let env = Env::start(push_config(&receiver)).await?;
    let added = add(&env, DADA, "P-1").await?;
    let before = now();
    let statuses = [102, 201, 202, 301, 302];
    for status in statuses {
        assert!(ok(&realmock(&env, update_body(DADA, "P-1", status)).await?));
    }
    // A refused change is not pushed.
    realmock(&env, update_body(DADA, "P-1", 302)).await?;
    let pushes = env.pushes(DADA, "P-1", statuses.len()).await?;
    assert_eq!(pushes.len(), statuses.len(), "{pushes:?}");
    assert!(
        pushes
            .iter()
            .all(|p| p["outcome"] == "delivered" && p["attempt"] == 1)
    );

    let received = receiver.received();
    assert_eq!(received.len(), statuses.len());
    for ((content_type, body), status) in received.iter().zip(statuses) {
        assert_eq!(content_type, "application/json");
        let event: Value = serde_json::from_str(body)?;
        let mut keys: Vec<&str> = event
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        let mut expected = vec![
            "CreateTime",
            "Event",
            "FromUserName",
            "MsgType",
            "ToUserName",
            "action_msg",
            "action_time",
            "agent",
            "order_status",
            "shop_no",
            "shop_order_id",
            "shopid",
            "waybill_id",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected, "{body}");
        assert!(msg(&event, "ToUserName").starts_with("gh_"), "{body}");
        assert!(!msg(&event, "FromUserName").is_empty());
        assert!(
            (before - 5..=now() + 5).contains(&code(&event, "CreateTime")),
            "{body}"
        );
        assert_eq!(event["MsgType"], "event");
        assert_eq!(event["Event"], "update_waybill_status");
        assert_eq!(event["shopid"], DADA);
        assert_eq!(event["shop_order_id"], "P-1");
        assert_eq!(event["waybill_id"], added["waybill_id"]);
        assert!((before - 5..=now() + 5).contains(&code(&event, "action_time")));
        assert_eq!(event["order_status"], status);
        assert_eq!(event["action_msg"], format!("to {status}").as_str());
        assert_eq!(event["shop_no"], "77071-47913");
        assert!(!msg(&event["agent"], "name").is_empty(), "{body}");
        assert_eq!(msg(&event["agent"], "phone").len(), 11, "{body}");
        assert_eq!(
            event["agent"].get("reach_time").is_some(),
            status == 301,
            "reach_time only while delivering: {body}"
        );
        if status == 301 {
            assert!(code(&event["agent"], "reach_time") > code(&event, "action_time"));
        }
    }
    Ok(())
}

#[tokio::test]
async fn pushes_can_be_xml_with_cdata() -> TestResult {
    let receiver = Receiver::start(Mode::Accept).await?;
    let env = Env::start(Config {
        callback_format: PushFormat::Xml,
        ..push_config(&receiver)
    })
    .await?;
    let added = add(&env, DADA, "X-1").await?;
    for status in [102, 201, 202, 301] {
        assert!(ok(&realmock(&env, update_body(DADA, "X-1", status)).await?));
    }
    env.pushes(DADA, "X-1", 4).await?;
    let received = receiver.received();
    assert_eq!(received.len(), 4);
    let (content_type, body) = &received[3];
    assert_eq!(content_type, "text/xml");
    assert!(body.starts_with("<xml><ToUserName><![CDATA[gh_"), "{body}");
    for part in [
        "<MsgType><![CDATA[event]]></MsgType>",
        "<Event><![CDATA[update_waybill_status]]></Event>",
        &format!("<shopid><![CDATA[{DADA}]]></shopid>"),
        "<shop_order_id><![CDATA[X-1]]></shop_order_id>",
        &format!(
            "<waybill_id><![CDATA[{}]]></waybill_id>",
            msg(&added, "waybill_id")
        ),
        "<order_status>301</order_status>",
        "<action_msg><![CDATA[to 301]]></action_msg>",
        "<shop_no><![CDATA[77071-47913]]></shop_no>",
        "<agent><name><![CDATA[",
        "<reach_time>",
    ] {
        assert!(body.contains(part), "{part} missing in {body}");
    }
    assert!(body.contains("<CreateTime>") && body.contains("<action_time>"));
    assert!(body.ends_with("</agent></xml>"), "{body}");
    assert!(!received[0].1.contains("<reach_time>"), "{}", received[0].1);
    Ok(())
}

#[tokio::test]
async fn failed_pushes_are_retried_up_to_three_attempts() -> TestResult {
    let flaky = Receiver::start(Mode::FailFirst(2)).await?;
    let env = Env::start(push_config(&flaky)).await?;
    add(&env, DADA, "R-1").await?;
    assert!(ok(&realmock(&env, update_body(DADA, "R-1", 102)).await?));
    let pushes = env.pushes(DADA, "R-1", 3).await?;
    let outcomes: Vec<(i64, String, String)> = pushes
        .iter()
        .map(|p| (code(p, "attempt"), msg(p, "outcome"), msg(p, "detail")))
        .collect();
    assert_eq!(
        outcomes,
        [
            // A failed attempt keeps the start of the handler's reply (this one says `no`).
            (1, "failed".into(), "HTTP 500: no".into()),
            (2, "failed".into(), "HTTP 500: no".into()),
            (3, "delivered".into(), "HTTP 200".into()),
        ]
    );
    assert_eq!(flaky.received().len(), 1);

    let dead = Receiver::start(Mode::AlwaysFail).await?;
    let env = Env::start(push_config(&dead)).await?;
    add(&env, DADA, "R-2").await?;
    assert!(ok(&realmock(&env, update_body(DADA, "R-2", 102)).await?));
    let pushes = env.pushes(DADA, "R-2", 3).await?;
    assert_eq!(pushes.len(), 3, "{pushes:?}");
    assert!(
        pushes
            .iter()
            .all(|p| p["outcome"] == "failed" && p["of"] == 3)
    );
    assert_eq!(pushes[2]["gave_up"], true);
    // Give a stray fourth attempt the chance to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(dead.hits.load(Ordering::SeqCst), 3);
    let view = env.order(DADA, "R-2").await?;
    let recorded = history(&view)
        .iter()
        .filter(|e| e["kind"] == "push")
        .count();
    assert_eq!(recorded, 3);
    Ok(())
}

#[tokio::test]
async fn slow_receivers_time_out_without_holding_up_the_api() -> TestResult {
    let slow = Receiver::start(Mode::SlowFirst(Duration::from_secs(10))).await?;
    let env = Env::start(Config {
        push_timeout: Duration::from_millis(1500),
        ..push_config(&slow)
    })
    .await?;
    add(&env, DADA, "L-1").await?;
    let started = Instant::now();
    assert!(ok(&realmock(&env, update_body(DADA, "L-1", 102)).await?));
    assert!(ok(&realmock(&env, update_body(DADA, "L-1", 201)).await?));
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "answers do not wait for pushes"
    );
    let pushes = env.pushes(DADA, "L-1", 3).await?;
    assert_eq!(
        msg(&pushes[0], "detail"),
        "timeout after 1500 ms",
        "{pushes:?}"
    );
    assert_eq!(pushes[0]["outcome"], "failed");
    assert_eq!(
        (
            pushes[1]["order_status"].clone(),
            pushes[1]["outcome"].clone()
        ),
        (json!(102), json!("delivered"))
    );
    assert_eq!(
        pushes[2]["order_status"], 201,
        "pushes keep the order of the changes"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Faults

/// The (HTTP status, errcode) of `n` `shop/get` calls; errcode -2 for a non-JSON answer and
/// HTTP 0 for a connection error.
async fn fault_sequence(env: &Env, n: usize) -> TestResult<Vec<(u16, i64)>> {
    let mut seen = Vec::new();
    for _ in 0..n {
        match env
            .raw(&format!("{BIZ}/shop/get"), Some(&env.token), "{}".into())
            .await
        {
            Ok((status, text)) => {
                let errcode = serde_json::from_str::<Value>(&text)
                    .map(|v| code(&v, "errcode"))
                    .unwrap_or(-2);
                seen.push((status, errcode));
            }
            Err(_) => seen.push((0, -2)),
        }
    }
    Ok(seen)
}

#[tokio::test]
async fn faults_follow_the_seed() -> TestResult {
    let faults =
        parse_faults("errcode=-1:0.2,45011:0.1,930556:0.1,http500:0.1,http503:0.1,drop:0.1")?;
    let config = |seed| Config {
        faults: faults.clone(),
        seed,
        ..Config::default()
    };
    let a = Env::start(config(42)).await?;
    let b = Env::start(config(42)).await?;
    let c = Env::start(config(43)).await?;
    let first = fault_sequence(&a, 40).await?;
    assert_eq!(
        first,
        fault_sequence(&b, 40).await?,
        "same seed, same answers"
    );
    assert_ne!(
        first,
        fault_sequence(&c, 40).await?,
        "another seed, other answers"
    );
    for expected in [
        (200, 0),
        (200, -1),
        (200, 45011),
        (200, 930556),
        (500, -2),
        (503, -2),
        (0, -2),
    ] {
        assert!(
            first.contains(&expected),
            "{expected:?} never drawn in {first:?}"
        );
    }
    // Faults never touch tokens or inspection.
    let token = classic_token(&a, APPID, APP_SECRET, GRANT).await?;
    assert!(token.get("errcode").is_none(), "{token}");
    for _ in 0..10 {
        assert_eq!(a.get_json("/__simulate/orders").await?.0, 200);
    }
    Ok(())
}

#[tokio::test]
async fn dropped_connections_and_slow_answers_are_what_the_client_sees() -> TestResult {
    let env = Env::start(Config {
        faults: parse_faults("drop:1")?,
        ..Config::default()
    })
    .await?;
    let result = env
        .http
        .post(format!(
            "{}{BIZ}/shop/get?access_token={}",
            env.emu.base_url(),
            env.token
        ))
        .body("{}")
        .send()
        .await;
    let error = match result {
        Ok(response) => {
            return Err(format!("expected a connection error, got {}", response.status()).into());
        }
        Err(e) => e,
    };
    assert!(!error.is_timeout(), "{error:?}");
    assert!(
        error.is_request() || error.is_connect() || error.is_body(),
        "{error:?}"
    );
    let (_, all) = env.get_json("/__simulate/orders").await?;
    assert_eq!(
        all["unmatched_calls"][0]["verdict"]["fault"], "dropped connection",
        "{all}"
    );

    let env = Env::start(Config {
        faults: parse_faults("http500:1")?,
        ..Config::default()
    })
    .await?;
    let (status, _) = env
        .raw(&format!("{BIZ}/shop/get"), Some(&env.token), "{}".into())
        .await?;
    assert_eq!(status, 500);

    let env = Env::start(Config {
        faults: parse_faults("slow:1,slow_delay=300ms")?,
        ..Config::default()
    })
    .await?;
    add(&env, DADA, "F-1").await?;
    let started = Instant::now();
    assert!(
        ok(&realmock(&env, update_body(DADA, "F-1", 102)).await?),
        "a slow answer is still processed"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    let view = env.order(DADA, "F-1").await?;
    assert_eq!(view["status"]["code"], 102);
    let faults: Vec<String> = history(&view)
        .iter()
        .filter(|e| e["kind"] == "call")
        .map(|e| msg(&e["verdict"], "fault"))
        .collect();
    assert_eq!(faults, ["slow 300 ms", "slow 300 ms"]);
    Ok(())
}

/// Sends a signed realmock update with a client that gives up after `timeout`; the error.
async fn realmock_giving_up(
    base: &str,
    token: &str,
    body: Value,
    timeout: Duration,
) -> TestResult<reqwest::Error> {
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()?;
    let result = impatient
        .post(format!(
            "{base}{BIZ}/realmock_update_order?access_token={token}"
        ))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await;
    match result {
        Ok(response) => Err(format!("expected a timeout, got {}", response.status()).into()),
        Err(error) => Ok(error),
    }
}

#[tokio::test]
async fn a_slow_call_takes_effect_even_when_the_client_gives_up() -> TestResult {
    let env = Env::start(Config {
        auto_create: true,
        faults: parse_faults("slow:1,slow_delay=3s")?,
        ..Config::default()
    })
    .await?;
    let sent = Instant::now();
    let error = realmock_giving_up(
        &env.emu.base_url(),
        &env.token,
        update_body(DADA, "SLOW-1", 102),
        Duration::from_millis(200),
    )
    .await?;
    assert!(error.is_timeout(), "{error:?}");
    // Far below the delay, so a loaded machine does not make it look as if it waited.
    assert!(sent.elapsed() < Duration::from_millis(2500));

    // Right away, well before the answer would have come: the call is in the history and the
    // order is at its new status.
    let view = env.order(DADA, "SLOW-1").await?;
    assert!(
        sent.elapsed() < Duration::from_millis(2500),
        "the inspection waited for the slow answer"
    );
    assert_eq!(view["status"]["code"], 102, "{view}");
    let calls: Vec<Value> = history(&view)
        .into_iter()
        .filter(|e| e["kind"] == "call")
        .collect();
    assert_eq!(calls.len(), 1, "{view}");
    assert_eq!(calls[0]["api"], "realmock_update_order", "{view}");
    assert_eq!(
        calls[0]["status_change"],
        json!({"from": 101, "to": 102}),
        "{view}"
    );
    assert_eq!(msg(&calls[0]["verdict"], "fault"), "slow 3000 ms", "{view}");

    // Once the delay is over nothing more happens: still one call, still at 102.
    tokio::time::sleep_until((sent + Duration::from_millis(3200)).into()).await;
    let later = env.order(DADA, "SLOW-1").await?;
    assert_eq!(later, view);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Signing vectors

/// The reference's vectors that carry a shop_order_id and a test account's shopid.
const VECTORS: [(&str, &str, &str); 6] = [
    (
        "test_shop_id",
        "test_shop_order_id",
        "a93d8d6bae9a9483c1b1d4e8670e7f6226ec94cb",
    ),
    (
        "1534713176",
        "NC16358315063430004314151882",
        "ea109e1ed2b3b9e72c601266296618094221337c",
    ),
    (
        "1534713176",
        "NC16355158526160004316829057",
        "10ef77787180af027e81afad6fd1107f8646f643",
    ),
    (
        "1534713176",
        "SIM-0001",
        "8f27f57f373fdd4e8d11119f37f9bb070ec85c96",
    ),
    (
        "dadaaee18818d97e236",
        "SIM-0001",
        "c8f77c04da1d9cee6bbd628cada411f70fd2a607",
    ),
    (
        "test_shop_id",
        "订单001",
        "3f6c5185eabb02b9584c3a2cc0741a37d35aba2f",
    ),
];

#[tokio::test]
async fn every_reference_signing_vector_is_accepted() -> TestResult {
    let env = Env::start(Config::default()).await?;
    for (shopid, order, expected) in VECTORS {
        let mut body = add_body(shopid, order);
        body["delivery_sign"] = json!(expected);
        let answer = env.call("order/add", body).await?;
        assert!(ok(&answer), "{shopid}/{order}: {answer}");
        let got = env
            .call(
                "order/get",
                json!({"shopid": shopid, "shop_order_id": order, "delivery_sign": expected}),
            )
            .await?;
        assert!(ok(&got), "{shopid}/{order}: {got}");
    }
    let mut dada = update_body(DADA, "SIM-0001", 102);
    dada["delivery_sign"] = json!("c8f77c04da1d9cee6bbd628cada411f70fd2a607");
    assert!(ok(&realmock(&env, dada).await?));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// `simulate serve`

/// A `simulate serve` child process, announced and ready.
pub(crate) struct Served {
    child: std::process::Child,
    pub(crate) base: String,
    stderr: std::process::ChildStderr,
}

impl Served {
    pub(crate) async fn start(extra: &[&str]) -> TestResult<Served> {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};

        let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let announced = tokio::time::timeout(
            Duration::from_secs(15),
            tokio::task::spawn_blocking(move || {
                let mut lines = Vec::new();
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let done = line == "ready";
                    lines.push(line);
                    if done {
                        break;
                    }
                }
                lines
            }),
        )
        .await;
        let lines = match announced {
            Ok(Ok(lines)) => lines,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("simulate serve did not say ready".into());
            }
        };
        assert_eq!(lines.len(), 2, "{lines:?}");
        let base = lines[0]
            .strip_prefix("simulate emulator listening on ")
            .ok_or_else(|| format!("{lines:?}"))?
            .to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Ok(Served {
            child,
            base,
            stderr,
        })
    }

    pub(crate) async fn token(&self) -> TestResult<String> {
        let http = reqwest::Client::builder().no_proxy().build()?;
        let issued: Value = http
            .get(format!(
                "{}/cgi-bin/token?grant_type={GRANT}&appid={APPID}&secret={APP_SECRET}",
                self.base
            ))
            .send()
            .await?
            .json()
            .await?;
        Ok(msg(&issued, "access_token"))
    }

    /// Stops it with SIGTERM; everything it wrote to stderr.
    pub(crate) async fn stop(mut self) -> TestResult<String> {
        use std::io::Read;
        use std::process::Command;

        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        assert!(stopped.success());
        let mut child = self.child;
        let exit = tokio::task::spawn_blocking(move || child.wait()).await??;
        assert!(exit.success(), "{exit:?}");
        let mut log = String::new();
        self.stderr.read_to_string(&mut log)?;
        Ok(log)
    }
}

#[tokio::test]
async fn serve_announces_itself_logs_redacted_calls_and_stops_on_sigterm() -> TestResult {
    let served = Served::start(&[]).await?;
    let base = served.base.clone();
    let token = served.token().await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let answer: Value = http
        .post(format!(
            "{base}{BIZ}/realmock_update_order?access_token={token}"
        ))
        .body(update_body(DADA, "SERVE-1", 102).to_string())
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(code(&answer, "errcode"), 930563, "{answer}");

    let log = served.stop().await?;
    assert!(
        log.contains(
            "GET /cgi-bin/token?grant_type=client_credential&appid=wxsimulate0000dev&secret=***"
        ),
        "{log}"
    );
    assert!(
        log.contains("/realmock_update_order?access_token=*** http=200 errcode=930563"),
        "{log}"
    );
    assert!(!log.contains(&token), "the log shows no token: {log}");
    assert!(!log.contains(APP_SECRET), "the log shows no secret: {log}");
    assert!(!log.contains(DADA_SECRET));
    Ok(())
}

#[tokio::test]
async fn serve_logs_a_slow_call_whose_client_gave_up() -> TestResult {
    let served = Served::start(&["--auto-create", "--faults", "slow:1,slow_delay=800ms"]).await?;
    let base = served.base.clone();
    let token = served.token().await?;
    let error = realmock_giving_up(
        &base,
        &token,
        update_body(DADA, "SERVE-SLOW", 102),
        Duration::from_millis(200),
    )
    .await?;
    assert!(error.is_timeout(), "{error:?}");
    // Stopped before the answer would have come: the line is written when the call is handled,
    // not when its late answer goes out.
    let log = served.stop().await?;
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("/realmock_update_order"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("http=200 errcode=0 resultcode=0 fault=\"slow 800 ms\""),
        "{log}"
    );
    Ok(())
}
