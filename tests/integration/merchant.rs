//! Every merchant API of the emulator, its happy path and its documented refusals, over
//! loopback against the in-process emulator. Codes and paths are literal on purpose.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use simulate::base::secret::Secret;
use simulate::emulator::{Config, DEV_APPID, DEV_SECRET, Emulator};
use simulate::model::carriers::Carriers;
use simulate::wechat::sign::delivery_sign;

use crate::accounts::*;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

// 闪送 and MTPS publish no test account: these are the emulator's own (carriers.yaml).
const SS: &str = "simulate-ss-shop";
const MTPS: &str = "simulate-mtps-shop";

fn secret_of(shopid: &str) -> &'static str {
    match shopid {
        DADA => DADA_SECRET,
        SS => "simulate-ss-secret",
        MTPS => "simulate-mtps-secret",
        _ => SF_SECRET,
    }
}

fn delivery_id_of(shopid: &str) -> &'static str {
    match shopid {
        DADA => "DADA",
        SS => "SS",
        MTPS => "MTPS",
        _ => "SFTC",
    }
}

fn sign(shopid: &str, order: &str) -> String {
    delivery_sign(shopid, Some(order), &Secret::new(secret_of(shopid)))
}

fn add_body(shopid: &str, order: &str) -> Value {
    json!({
        "shopid": shopid,
        "shop_order_id": order,
        "delivery_id": delivery_id_of(shopid),
        "delivery_sign": sign(shopid, order),
        "openid": "oTESTopenid000000000000000000",
        "sender": { "name": "店", "city": "广州", "address": "a", "address_detail": "b",
                    "phone": "020-1", "lng": 113.32452, "lat": 23.099994 },
        "receiver": { "name": "客", "city": "广州", "address": "c", "address_detail": "d",
                      "phone": "13800000000", "lng": 113.34, "lat": 23.11 },
        "cargo": { "goods_value": 10, "goods_weight": 1,
                   "cargo_first_class": "其他", "cargo_second_class": "其他" },
        "order_info": { "order_type": 0, "order_time": now(), "is_finish_code_needed": 1 },
        "shop": { "wxa_path": "/p", "img_url": "https://x/y.png", "goods_name": "g", "goods_count": 1 },
    })
}

struct Env {
    emu: Emulator,
    http: reqwest::Client,
    token: String,
}

impl Env {
    async fn start() -> TestResult<Env> {
        Env::start_with(Carriers::builtin().map_err(|d| format!("{d:?}"))?).await
    }

    async fn start_with(carriers: Carriers) -> TestResult<Env> {
        let emu = Emulator::start(
            "127.0.0.1:0".parse()?,
            Arc::new(carriers),
            Config::default(),
        )
        .await?;
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

    async fn post(&self, path: &str, token: Option<&str>, body: &str) -> TestResult<(u16, Value)> {
        let url = match token {
            Some(t) => format!("{}?access_token={t}", self.url(path)),
            None => self.url(path),
        };
        let response = self.http.post(url).body(body.to_owned()).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    async fn call_with(&self, api: &str, token: &str, body: Value) -> TestResult<Value> {
        let (status, answer) = self
            .post(&format!("{BIZ}/{api}"), Some(token), &body.to_string())
            .await?;
        assert_eq!(status, 200, "{api}: {answer}");
        Ok(answer)
    }

    async fn call(&self, api: &str, body: Value) -> TestResult<Value> {
        let token = self.token.clone();
        self.call_with(api, &token, body).await
    }

    async fn realmock(&self, shopid: &str, order: &str, status: u16) -> TestResult<Value> {
        self.call(
            "realmock_update_order",
            json!({ "shopid": shopid, "shop_order_id": order, "order_status": status,
                    "action_time": now(), "action_msg": "", "delivery_sign": sign(shopid, order) }),
        )
        .await
    }

    async fn view(&self, shopid: &str, order: &str) -> TestResult<Value> {
        let url = self.url(&format!("/__simulate/orders/{shopid}/{order}"));
        Ok(self.http.get(url).send().await?.json().await?)
    }
}

fn code(answer: &Value, field: &str) -> i64 {
    answer[field].as_i64().unwrap_or(i64::MIN)
}

fn order_ref(shopid: &str, order: &str, waybill: &str) -> Value {
    json!({ "shopid": shopid, "shop_order_id": order, "waybill_id": waybill,
            "delivery_sign": sign(shopid, order) })
}

async fn add(env: &Env, shopid: &str, order: &str) -> TestResult<String> {
    let answer = env.call("order/add", add_body(shopid, order)).await?;
    assert_eq!(
        (code(&answer, "errcode"), code(&answer, "resultcode")),
        (0, 0),
        "{answer}"
    );
    Ok(answer["waybill_id"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn wrong_calls_get_the_platforms_json_never_a_bare_http_error() -> TestResult {
    let env = Env::start().await?;
    let token = env.token.clone();
    let (status, answer) = env
        .post(
            "/cgi-bin/express/local/business/order/nothing",
            Some(&token),
            "{}",
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(answer["errcode"], 40066, "{answer}");
    // Like every other refusal, it carries a request id.
    let errmsg = answer["errmsg"].as_str().unwrap_or_default();
    assert!(errmsg.starts_with("invalid url rid: "), "{answer}");
    let get = env
        .http
        .get(env.url(&format!("{BIZ}/order/add?access_token={token}")))
        .send()
        .await?
        .json::<Value>()
        .await?;
    assert_eq!(code(&get, "errcode"), 43002, "{get}");
    let (_, empty) = env
        .post(&format!("{BIZ}/order/add"), Some(&token), "")
        .await?;
    assert_eq!(code(&empty, "errcode"), 44002, "{empty}");
    let (_, missing) = env.post(&format!("{BIZ}/order/get"), None, "{}").await?;
    assert_eq!(code(&missing, "errcode"), 41001, "{missing}");
    for api in ["delivery/getall", "shop/get"] {
        for body in ["", "{}"] {
            let (_, ok) = env
                .post(&format!("{BIZ}/{api}"), Some(&token), body)
                .await?;
            assert_eq!(code(&ok, "errcode"), 0, "{api} with {body:?}: {ok}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn add_checks_its_sub_objects_and_answers_documented_types() -> TestResult {
    let env = Env::start().await?;
    let answer = env.call("order/add", add_body(DADA, "T-1")).await?;
    assert!(
        answer["distance"].is_i64(),
        "distance is an integer: {answer}"
    );
    assert!(
        answer["finish_code"].is_i64(),
        "finish_code is a number: {answer}"
    );
    let mut quoted = add_body(DADA, "T-2");
    quoted["receiver"]["lng"] = json!("113.34");
    assert_eq!(
        code(&env.call("order/add", quoted).await?, "errcode"),
        930561
    );
    // Categories come from the platform's table, each second level under its first.
    for (first, second) in [("快餐", "其他"), ("美食夜宵", "超市")] {
        let mut body = add_body(DADA, "T-cat");
        body["cargo"]["cargo_first_class"] = json!(first);
        body["cargo"]["cargo_second_class"] = json!(second);
        let answer = env.call("order/add", body).await?;
        assert_eq!(
            code(&answer, "errcode"),
            930570,
            "{first}/{second}: {answer}"
        );
    }
    let mut heavy = add_body(DADA, "T-3");
    heavy["cargo"]["goods_weight"] = json!(80);
    assert_eq!(
        code(&env.call("order/add", heavy).await?, "errcode"),
        930561
    );
    let mut shop = add_body(DADA, "T-4");
    shop["shop"]["img_url"] = json!("");
    assert_eq!(
        code(&env.call("order/add", shop).await?, "errcode"),
        9300535
    );
    let mut count = add_body(DADA, "T-5");
    count["shop"]["goods_count"] = json!(0);
    assert_eq!(
        code(&env.call("order/add", count).await?, "errcode"),
        9300535
    );
    let mut reservation = add_body(DADA, "T-6");
    reservation["order_info"]["order_type"] = json!(1);
    assert_eq!(
        code(&env.call("order/add", reservation).await?, "errcode"),
        930561
    );
    let mut sf = add_body(SF, "T-7");
    sf["order_info"]
        .as_object_mut()
        .map(|o| o.remove("order_time"));
    assert_eq!(code(&env.call("order/add", sf).await?, "errcode"), 930561);
    Ok(())
}

#[tokio::test]
async fn pre_add_gives_dada_a_delivery_token_and_add_checks_it() -> TestResult {
    let env = Env::start().await?;
    let quote = env.call("order/pre_add", add_body(DADA, "P-1")).await?;
    let token = quote["delivery_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty(), "{quote}");
    let sf = env.call("order/pre_add", add_body(SF, "P-2")).await?;
    assert!(sf.get("delivery_token").is_none(), "{sf}");
    let mut unknown = add_body(DADA, "P-1");
    unknown["delivery_token"] = json!("not-a-token");
    assert_eq!(
        code(&env.call("order/add", unknown).await?, "errcode"),
        930561
    );
    let mut other = add_body(DADA, "P-3");
    other["delivery_token"] = json!(token);
    assert_eq!(
        code(&env.call("order/add", other).await?, "errcode"),
        930561,
        "a token is for the order it was quoted for"
    );
    let mut good = add_body(DADA, "P-1");
    good["delivery_token"] = json!(token);
    assert_eq!(code(&env.call("order/add", good).await?, "resultcode"), 0);
    Ok(())
}

#[tokio::test]
async fn an_expired_delivery_token_is_refused() -> TestResult {
    // A made-up carrier whose delivery tokens last one second.
    let file = "carriers:\n  - id: acme\n    delivery_id: ACME\n    name: { en: Acme Courier, zh: 示例快送 }\n    call: realmock\n    version: acme-1\n    account: { shopid: acme-shop, appsecret: acme-secret, shop_no: a1 }\n    statuses: [102, 302]\n    order_rules: { delivery_token_seconds: 1 }\n";
    let base = Carriers::builtin().map_err(|d| format!("{d:?}"))?;
    let carriers = Carriers::extend(base, file, "acme.yaml", &Default::default())
        .map_err(|d| format!("{d:?}"))?;
    let env = Env::start_with(carriers).await?;
    let mut body = add_body(DADA, "E-1");
    body["shopid"] = json!("acme-shop");
    body["delivery_id"] = json!("ACME");
    body["delivery_sign"] = json!(delivery_sign(
        "acme-shop",
        Some("E-1"),
        &Secret::new("acme-secret")
    ));
    let quote = env.call("order/pre_add", body.clone()).await?;
    let token = quote["delivery_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty(), "{quote}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    body["delivery_token"] = json!(token);
    let late = env.call("order/add", body).await?;
    assert_eq!(code(&late, "errcode"), 930561, "{late}");
    assert!(
        late["errmsg"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{late}"
    );
    Ok(())
}

#[tokio::test]
async fn tips_follow_the_carriers_caps_and_only_at_101() -> TestResult {
    let env = Env::start().await?;
    let waybill = add(&env, DADA, "A-1").await?;
    let tip = |amount: f64| {
        let mut body = order_ref(DADA, "A-1", &waybill);
        body["tips"] = json!(amount);
        body
    };
    assert_eq!(
        code(&env.call("order/addtips", tip(5.0)).await?, "resultcode"),
        0
    );
    // Not larger than the current tip; above goods value (10); above Dada's 30.
    for amount in [5.0, 11.0, 31.0] {
        let answer = env.call("order/addtips", tip(amount)).await?;
        assert_eq!(code(&answer, "resultcode"), 9105, "{amount}: {answer}");
    }
    env.realmock(DADA, "A-1", 102).await?;
    assert_eq!(
        code(&env.call("order/addtips", tip(8.0)).await?, "resultcode"),
        9104
    );

    let sf_waybill = add(&env, SF, "A-2").await?;
    for n in 1..=10 {
        let mut body = order_ref(SF, "A-2", &sf_waybill);
        body["tips"] = json!(n);
        assert_eq!(
            code(&env.call("order/addtips", body).await?, "resultcode"),
            0
        );
    }
    let mut eleventh = order_ref(SF, "A-2", &sf_waybill);
    eleventh["tips"] = json!(11);
    assert_eq!(
        code(&env.call("order/addtips", eleventh).await?, "resultcode"),
        9105
    );
    Ok(())
}

#[tokio::test]
async fn precancel_quotes_what_cancel_charges_and_dada_cancels_only_before_pickup() -> TestResult {
    let env = Env::start().await?;
    let waybill = add(&env, DADA, "C-1").await?;
    let mut body = order_ref(DADA, "C-1", &waybill);
    body["delivery_id"] = json!("DADA");
    body["cancel_reason_id"] = json!(1);
    let quote = env.call("order/precancel", body.clone()).await?;
    assert_eq!(quote["deduct_fee"], json!(0.0), "{quote}");
    assert!(quote["desc"].is_string());
    assert_eq!(
        env.view(DADA, "C-1").await?["status"]["code"],
        101,
        "precancel changes nothing"
    );
    let cancel = env.call("order/cancel", body).await?;
    assert_eq!(cancel["deduct_fee"], quote["deduct_fee"], "{cancel}");
    assert_eq!(env.view(DADA, "C-1").await?["status"]["code"], 103);

    let waybill = add(&env, DADA, "C-2").await?;
    for status in [102, 201, 202] {
        env.realmock(DADA, "C-2", status).await?;
    }
    let mut late = order_ref(DADA, "C-2", &waybill);
    late["delivery_id"] = json!("DADA");
    late["cancel_reason_id"] = json!(1);
    assert_eq!(
        code(
            &env.call("order/precancel", late.clone()).await?,
            "resultcode"
        ),
        9110
    );
    assert_eq!(
        code(&env.call("order/cancel", late).await?, "resultcode"),
        9110
    );
    assert_eq!(env.view(DADA, "C-2").await?["status"]["code"], 202);
    Ok(())
}

#[tokio::test]
async fn confirm_return_ends_a_returning_order_and_readd_starts_again() -> TestResult {
    let env = Env::start().await?;
    let waybill = add(&env, DADA, "R-1").await?;
    let early = env
        .call("order/confirm_return", order_ref(DADA, "R-1", &waybill))
        .await?;
    assert_eq!(code(&early, "resultcode"), 9109, "{early}");
    let live = env.call("order/readd", add_body(DADA, "R-1")).await?;
    assert_eq!(
        code(&live, "errcode"),
        930562,
        "a live order is not re-dispatched: {live}"
    );
    for status in [102, 201, 202, 301, 304] {
        env.realmock(DADA, "R-1", status).await?;
    }
    let back = env
        .call("order/confirm_return", order_ref(DADA, "R-1", &waybill))
        .await?;
    assert_eq!(code(&back, "resultcode"), 0, "{back}");
    assert_eq!(env.view(DADA, "R-1").await?["status"]["code"], 401);
    let again = env
        .call("order/confirm_return", order_ref(DADA, "R-1", &waybill))
        .await?;
    assert_eq!(code(&again, "errcode"), 930565);

    let readd = env.call("order/readd", add_body(DADA, "R-1")).await?;
    assert_eq!(code(&readd, "resultcode"), 0, "{readd}");
    assert_ne!(readd["waybill_id"].as_str(), Some(waybill.as_str()));
    assert_eq!(readd["order_status"], 101);
    let unknown = env.call("order/readd", add_body(DADA, "R-none")).await?;
    assert_eq!(code(&unknown, "errcode"), 930563);

    // A delivered order is not re-dispatched; a returning one is not cancelled.
    let delivered = add(&env, SF, "R-2").await?;
    for status in [102, 202, 302] {
        env.realmock(SF, "R-2", status).await?;
    }
    let readd = env.call("order/readd", add_body(SF, "R-2")).await?;
    assert_eq!(code(&readd, "resultcode"), 9108, "{readd}");
    assert!(!delivered.is_empty());
    let returning = add(&env, DADA, "R-3").await?;
    for status in [102, 201, 202, 301, 305] {
        env.realmock(DADA, "R-3", status).await?;
    }
    let mut cancel = order_ref(DADA, "R-3", &returning);
    cancel["delivery_id"] = json!("DADA");
    cancel["cancel_reason_id"] = json!(1);
    let answer = env.call("order/cancel", cancel).await?;
    assert_eq!(code(&answer, "resultcode"), 9103, "{answer}");
    Ok(())
}

#[tokio::test]
async fn shop_add_and_open_need_a_component_token() -> TestResult {
    let env = Env::start().await?;
    let plain = env.call("shop/add", json!({"delivery_id": "DADA"})).await?;
    assert_eq!(code(&plain, "errcode"), 86000, "{plain}");
    let (_, issued) = env
        .post(
            "/cgi-bin/component/api_component_token",
            None,
            &json!({"component_appid": DEV_APPID, "component_appsecret": DEV_SECRET,
                    "component_verify_ticket": "ticket@@@x"})
            .to_string(),
        )
        .await?;
    let component = issued["component_access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!component.is_empty(), "{issued}");
    let bound = env
        .call_with("shop/add", &component, json!({"delivery_id": "DADA"}))
        .await?;
    assert_eq!(bound, json!({"errcode": 0, "errmsg": "ok"}));
    let bad = env
        .call_with("shop/add", &component, json!({"delivery_id": "NOPE"}))
        .await?;
    assert_eq!(code(&bad, "errcode"), 930561);
    assert_eq!(code(&env.call("open", json!({})).await?, "errcode"), 86000);
    let (_, opened) = env
        .post(&format!("{BIZ}/open"), Some(&component), "")
        .await?;
    assert_eq!(code(&opened, "errcode"), 0, "{opened}");
    let twice = env.call_with("open", &component, json!({})).await?;
    assert_eq!(code(&twice, "errcode"), 930569);
    Ok(())
}

#[tokio::test]
async fn the_carrier_side_moves_an_order_and_the_rider_it_names_is_shown() -> TestResult {
    let env = Env::start().await?;
    let waybill = add(&env, DADA, "U-1").await?;
    let wx_token = env.view(DADA, "U-1").await?["wx_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let update = |status: u16, token: &str| {
        json!({ "wx_token": token, "shopid": DADA, "shop_order_id": "U-1", "waybill_id": waybill,
                "action_time": now(), "order_status": status, "action_msg": "",
                "agent": {"name": "骑手甲", "phone": "13800130000"},
                "expected_delivery_time": now() + 600 })
    };
    let path = "/cgi-bin/express/local/delivery/update_order";
    let token = env.token.clone();
    let (_, wrong) = env
        .post(path, Some(&token), &update(102, "nope").to_string())
        .await?;
    assert_eq!(code(&wrong, "errcode"), 930561, "{wrong}");
    for status in [102, 202, 301] {
        let (_, ok) = env
            .post(path, Some(&token), &update(status, &wx_token).to_string())
            .await?;
        assert_eq!(code(&ok, "resultcode"), 0, "{status}: {ok}");
    }
    let (_, back) = env
        .post(path, Some(&token), &update(102, &wx_token).to_string())
        .await?;
    assert_eq!(code(&back, "resultcode"), 9102, "never backwards: {back}");
    let got = env
        .call(
            "order/get",
            json!({"shopid": DADA, "shop_order_id": "U-1", "delivery_sign": sign(DADA, "U-1")}),
        )
        .await?;
    assert_eq!(got["rider_name"], "骑手甲", "{got}");
    let reach = got["reach_time"].as_i64().unwrap_or(-1);
    assert!((590..=600).contains(&reach), "seconds left: {got}");
    let lng = got["rider_lng"].as_f64().unwrap_or(0.0);
    assert!(
        (113.32452..113.34).contains(&lng),
        "between shop and receiver: {got}"
    );
    Ok(())
}

#[tokio::test]
async fn shansong_and_meituan_have_profiles_for_the_order_apis() -> TestResult {
    let env = Env::start().await?;
    let all = env.call("delivery/getall", json!({})).await?;
    let ids: Vec<&str> = all["list"]
        .as_array()
        .map(|l| l.iter().filter_map(|c| c["delivery_id"].as_str()).collect())
        .unwrap_or_default();
    for id in ["SFTC", "DADA", "SS", "MTPS"] {
        assert!(ids.contains(&id), "getall lists {id}: {all}");
    }
    // Both need shop_no on pre_add and add.
    for shopid in [SS, MTPS] {
        let mut body = add_body(shopid, "N-0");
        let answer = env.call("order/pre_add", body.clone()).await?;
        assert_eq!(code(&answer, "errcode"), 930561, "{shopid}: {answer}");
        body["shop_no"] = json!("store-9");
        let answer = env.call("order/add", body).await?;
        assert_eq!(code(&answer, "resultcode"), 0, "{shopid}: {answer}");
    }
    let with_shop_no = |shopid: &str, order: &str| {
        let mut body = add_body(shopid, order);
        body["shop_no"] = json!("store-9");
        body
    };
    // MTPS: pre_add answers only its result code, no tips, no readd.
    let quote = env.call("order/pre_add", with_shop_no(MTPS, "M-1")).await?;
    assert_eq!(code(&quote, "resultcode"), 0, "{quote}");
    assert!(
        quote.get("fee").is_none() && quote.get("delivery_token").is_none(),
        "{quote}"
    );
    let m1 = env.call("order/add", with_shop_no(MTPS, "M-1")).await?;
    let m1 = m1["waybill_id"].as_str().unwrap_or_default().to_owned();
    let mut tip = order_ref(MTPS, "M-1", &m1);
    tip["tips"] = json!(5);
    assert_eq!(
        code(&env.call("order/addtips", tip).await?, "resultcode"),
        9106
    );
    let mut cancel = order_ref(MTPS, "M-1", &m1);
    cancel["delivery_id"] = json!("MTPS");
    cancel["cancel_reason_id"] = json!(1);
    assert_eq!(
        code(&env.call("order/cancel", cancel).await?, "resultcode"),
        0
    );
    let again = env.call("order/readd", with_shop_no(MTPS, "M-1")).await?;
    assert_eq!(
        code(&again, "resultcode"),
        9107,
        "MTPS has no readd: {again}"
    );

    // 闪送: its fixed tip tiers, and a quote without a delivery_token.
    let quote = env.call("order/pre_add", with_shop_no(SS, "S-1")).await?;
    assert!(
        quote["fee"].is_number() && quote.get("delivery_token").is_none(),
        "{quote}"
    );
    let s1 = env.call("order/add", with_shop_no(SS, "S-1")).await?;
    let s1 = s1["waybill_id"].as_str().unwrap_or_default().to_owned();
    for (amount, expected) in [(4, 9105), (5, 0), (3, 9105), (10, 0), (12, 9105)] {
        let mut tip = order_ref(SS, "S-1", &s1);
        tip["tips"] = json!(amount);
        let answer = env.call("order/addtips", tip).await?;
        assert_eq!(
            code(&answer, "resultcode"),
            expected,
            "tip {amount}: {answer}"
        );
    }
    // 闪送's precancel and cancel need shop_no too.
    let mut quote = order_ref(SS, "S-1", &s1);
    quote["delivery_id"] = json!("SS");
    let answer = env.call("order/precancel", quote.clone()).await?;
    assert_eq!(code(&answer, "errcode"), 930561, "{answer}");
    quote["shop_no"] = json!("store-9");
    let answer = env.call("order/precancel", quote).await?;
    assert_eq!(code(&answer, "resultcode"), 0, "{answer}");
    // No test call reaches them: realmock answers 930557, test_update_order 930561; the
    // carrier side moves their orders.
    let mock = env.realmock(SS, "S-1", 102).await?;
    assert_eq!(code(&mock, "errcode"), 930557, "{mock}");
    let sandbox = env
        .call(
            "test_update_order",
            json!({ "shopid": SS, "shop_order_id": "S-1", "order_status": 102,
                    "action_time": now() }),
        )
        .await?;
    assert_eq!(code(&sandbox, "errcode"), 930561, "{sandbox}");
    // Its hint names what does move them, not realmock (which refuses them too).
    let hint = sandbox["errmsg"].as_str().unwrap_or_default();
    assert!(
        hint.contains("delivery/update_order") && !hint.contains("use realmock"),
        "{sandbox}"
    );
    let wx_token = env.view(SS, "S-1").await?["wx_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let token = env.token.clone();
    let update = json!({ "wx_token": wx_token, "shopid": SS, "shop_order_id": "S-1",
                         "waybill_id": s1, "action_time": now(), "order_status": 102,
                         "action_msg": "", "agent": {"name": "闪送员", "phone": "13800130001"} });
    let (_, moved) = env
        .post(
            "/cgi-bin/express/local/delivery/update_order",
            Some(&token),
            &update.to_string(),
        )
        .await?;
    assert_eq!(code(&moved, "resultcode"), 0, "{moved}");
    assert_eq!(env.view(SS, "S-1").await?["status"]["code"], 102);
    Ok(())
}

#[tokio::test]
async fn get_and_cancel_refuse_another_carriers_delivery_id_alike() -> TestResult {
    let env = Env::start().await?;
    add(&env, DADA, "D-1").await?;
    let named = |api_delivery_id: &str| {
        json!({ "shopid": DADA, "shop_order_id": "D-1", "delivery_id": api_delivery_id,
                "delivery_sign": sign(DADA, "D-1"), "cancel_reason_id": 1 })
    };
    for api in ["order/get", "order/cancel"] {
        let answer = env.call(api, named("SFTC")).await?;
        assert_eq!(code(&answer, "errcode"), 930563, "{api}: {answer}");
        let errmsg = answer["errmsg"].as_str().unwrap_or_default();
        assert!(
            errmsg.starts_with("order not exists: D-1 is a DADA order, not SFTC"),
            "{api}: {answer}"
        );
    }
    let right = env.call("order/get", named("DADA")).await?;
    assert_eq!(code(&right, "resultcode"), 0, "{right}");
    assert_eq!(right["order_status"], 101, "{right}");
    Ok(())
}
