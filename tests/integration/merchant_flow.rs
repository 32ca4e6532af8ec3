//! A merchant's whole delivery flow against `simulate serve` started as a process, as a backend
//! would drive it: add, tip, realmock to 304, confirm_return, readd, and a cancel charged the
//! fee precancel quoted. Its pushes go to a handler in this test that checks them as a
//! production handler does, written here from the platform's rules (SHA-1 over the sorted
//! token, timestamp and nonce; AES-256-CBC with the EncodingAESKey), not with simulate's code.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::routing::any;
use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use simulate::base::secret::Secret;
use simulate::wechat::sign::delivery_sign;

use crate::serve_child::Serve;

const TOKEN: &str = "flowToken42";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wxsimulate0000dev";
const SECRET: &str = "simulate-dev-secret";
const DADA: &str = "dadaaee18818d97e236";
const DADA_SECRET: &str = "1c6f40492d6d89caaad80b85f7d31670";
const BIZ: &str = "/cgi-bin/express/local/business";

/// What the handler made of one request.
#[derive(Debug, Clone)]
struct Judged {
    kind: &'static str,
    ok: Result<(), String>,
    order_status: Option<i64>,
    waybill_id: Option<String>,
}

#[derive(Clone)]
struct Handler {
    safe: bool,
    seen: Arc<Mutex<Vec<Judged>>>,
}

fn sha1_sorted(parts: &[&str]) -> String {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    let digest = Sha1::digest(parts.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Opens a safe-mode `Encrypt`: (message, appid).
fn open(encrypt: &str) -> Result<(String, String), String> {
    // The EncodingAESKey's last character carries spare bits: decode leniently, as WeChat does.
    let lenient = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = lenient
        .decode(format!("{AES_KEY}="))
        .map_err(|e| e.to_string())?;
    let mut data = STANDARD.decode(encrypt).map_err(|e| e.to_string())?;
    let plain = cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
        .map_err(|e| e.to_string())?
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .map_err(|e| e.to_string())?;
    let pad = usize::from(*plain.last().ok_or("empty")?);
    if !(1..=32).contains(&pad)
        || plain[plain.len() - pad..]
            .iter()
            .any(|&b| b as usize != pad)
    {
        return Err("bad padding".into());
    }
    let plain = &plain[..plain.len() - pad];
    let length = u32::from_be_bytes(plain[16..20].try_into().map_err(|_| "short")?) as usize;
    let message = String::from_utf8(plain[20..20 + length].to_vec()).map_err(|e| e.to_string())?;
    let appid = String::from_utf8(plain[20 + length..].to_vec()).map_err(|e| e.to_string())?;
    Ok((message, appid))
}

impl Handler {
    fn judge(&self, method: &Method, q: &HashMap<String, String>, body: &str) -> (Judged, String) {
        let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
        let (timestamp, nonce) = (get("timestamp"), get("nonce"));
        let signed = get("signature") == sha1_sorted(&[TOKEN, timestamp, nonce]);
        if method == Method::GET {
            let ok = if signed {
                Ok(())
            } else {
                Err("bad signature".to_owned())
            };
            let judged = Judged {
                kind: "echostr",
                ok,
                order_status: None,
                waybill_id: None,
            };
            return (judged, get("echostr").to_owned());
        }
        let message = (|| -> Result<Value, String> {
            if !signed {
                return Err("bad signature".into());
            }
            let outer: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
            if !self.safe {
                return Ok(outer);
            }
            if get("encrypt_type") != "aes" || outer.get("order_status").is_some() {
                return Err(format!("not a safe-mode push: {q:?} {outer}"));
            }
            let encrypt = outer["Encrypt"].as_str().ok_or("no Encrypt")?;
            if get("msg_signature") != sha1_sorted(&[TOKEN, timestamp, nonce, encrypt]) {
                return Err("bad msg_signature".into());
            }
            let (text, appid) = open(encrypt)?;
            if appid != APPID {
                return Err(format!("sealed for {appid}"));
            }
            serde_json::from_str(&text).map_err(|e| e.to_string())
        })();
        let judged = match message {
            Ok(message) => Judged {
                kind: "push",
                ok: Ok(()),
                order_status: message["order_status"].as_i64(),
                waybill_id: message["waybill_id"].as_str().map(str::to_owned),
            },
            Err(why) => Judged {
                kind: "push",
                ok: Err(why),
                order_status: None,
                waybill_id: None,
            },
        };
        (judged, "success".to_owned())
    }

    /// Listens on loopback; the URL a merchant would save in the MP console.
    async fn start(safe: bool) -> (Handler, String) {
        let handler = Handler {
            safe,
            seen: Arc::default(),
        };
        let app = Router::new()
            .route(
                "/wx/delivery",
                any(
                    |State(h): State<Handler>,
                     method: Method,
                     Query(q): Query<HashMap<String, String>>,
                     body: String| async move {
                        let (judged, answer) = h.judge(&method, &q, &body);
                        let status = if judged.ok.is_ok() {
                            StatusCode::OK
                        } else {
                            StatusCode::UNAUTHORIZED
                        };
                        h.seen.lock().unwrap().push(judged);
                        (status, answer)
                    },
                ),
            )
            .with_state(handler.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/wx/delivery", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (handler, url)
    }

    fn pushes(&self) -> Vec<Judged> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|j| j.kind == "push").cloned().collect()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn sign(order: &str) -> String {
    delivery_sign(DADA, Some(order), &Secret::new(DADA_SECRET))
}

/// The merchant's backend: its HTTP client, its token, the base URL in place of WeChat's.
struct Backend {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Backend {
    async fn connect(base: &str) -> Backend {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let answer: Value = http
            .post(format!("{base}/cgi-bin/stable_token"))
            .json(&json!({"grant_type": "client_credential", "appid": APPID, "secret": SECRET}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!token.is_empty(), "{answer}");
        Backend {
            http,
            base: base.to_owned(),
            token,
        }
    }

    async fn call(&self, api: &str, body: Value) -> Value {
        let url = format!("{}{BIZ}/{api}?access_token={}", self.base, self.token);
        let answer: Value = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let codes = (
            answer["errcode"].as_i64().unwrap_or(0),
            answer["resultcode"].as_i64(),
        );
        assert_eq!(codes, (0, Some(0)), "{api}: {answer}");
        answer
    }
}

fn order_body(order: &str) -> Value {
    json!({
        "shopid": DADA, "shop_order_id": order, "delivery_id": "DADA",
        "delivery_sign": sign(order), "openid": "oTESTopenid000000000000000000",
        "sender": { "name": "店", "city": "上海", "address": "a", "address_detail": "b",
                    "phone": "021-1", "lng": 121.481462, "lat": 31.236873 },
        "receiver": { "name": "客", "city": "上海", "address": "c", "address_detail": "d",
                      "phone": "13800000000", "lng": 121.453821, "lat": 31.228137 },
        "cargo": { "goods_value": 40, "goods_weight": 1,
                   "cargo_first_class": "美食夜宵", "cargo_second_class": "快餐/地方菜" },
        "order_info": { "order_type": 0, "order_time": now() },
        "shop": { "wxa_path": "/p", "img_url": "https://x/y.png", "goods_name": "g", "goods_count": 1 },
    })
}

async fn flow(safe: bool) {
    let (handler, url) = Handler::start(safe).await;
    let mut flags = vec![
        "--callback".to_owned(),
        url,
        "--push-token".into(),
        TOKEN.into(),
    ];
    if safe {
        flags.extend(["--push-mode", "safe", "--aes-key", AES_KEY].map(str::to_owned));
    }
    // Started off the runtime: serve checks the URL before it is ready, and the handler on this
    // runtime must answer meanwhile.
    let serve = tokio::task::spawn_blocking(move || {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        Serve::start(&flags)
    })
    .await
    .unwrap();
    assert!(
        serve
            .announced
            .iter()
            .any(|l| l == "callback URL check passed (echostr answered)"),
        "{:?}\n{}",
        serve.announced,
        serve.console()
    );
    let backend = Backend::connect(&serve.base).await;
    let id = if safe { "FLOW-SAFE" } else { "FLOW-PLAIN" };
    let key = |waybill: &str| {
        json!({ "shopid": DADA, "shop_order_id": id, "waybill_id": waybill,
                "delivery_id": "DADA", "delivery_sign": sign(id) })
    };

    let added = backend.call("order/add", order_body(id)).await;
    let first = added["waybill_id"].as_str().unwrap_or_default().to_owned();
    let mut tip = key(&first);
    tip["tips"] = json!(5);
    backend.call("order/addtips", tip).await;
    for status in [102, 201, 202, 301, 304] {
        backend
            .call(
                "realmock_update_order",
                json!({ "shopid": DADA, "shop_order_id": id, "order_status": status,
                        "action_time": now(), "action_msg": "", "delivery_sign": sign(id) }),
            )
            .await;
    }
    backend.call("order/confirm_return", key(&first)).await;
    let again = backend.call("order/readd", order_body(id)).await;
    let second = again["waybill_id"].as_str().unwrap_or_default().to_owned();
    assert!(!second.is_empty() && second != first, "{again}");
    // A rider assigned two minutes ago: past Dada's free minute, so the cancel costs.
    backend
        .call(
            "realmock_update_order",
            json!({ "shopid": DADA, "shop_order_id": id, "order_status": 102,
                    "action_time": now() - 120, "action_msg": "", "delivery_sign": sign(id) }),
        )
        .await;
    let quote = backend.call("order/precancel", key(&second)).await;
    let fee = quote["deduct_fee"].as_f64().unwrap_or(-1.0);
    assert!(fee > 0.0 && quote["desc"].is_string(), "{quote}");
    let mut cancel = key(&second);
    cancel["cancel_reason_id"] = json!(1);
    let cancelled = backend.call("order/cancel", cancel).await;
    assert_eq!(cancelled["deduct_fee"].as_f64(), Some(fee), "{cancelled}");

    // Every change was pushed, in order, and the handler accepted each push.
    let expected = [102, 201, 202, 301, 304, 401, 102, 103];
    let deadline = Instant::now() + Duration::from_secs(20);
    while handler.pushes().len() < expected.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pushes = handler.pushes();
    let refused: Vec<&Judged> = pushes.iter().filter(|p| p.ok.is_err()).collect();
    assert!(refused.is_empty(), "{refused:?}\n{}", serve.console());
    let statuses: Vec<i64> = pushes.iter().filter_map(|p| p.order_status).collect();
    assert_eq!(statuses, expected, "{pushes:?}");
    let waybills: Vec<&str> = pushes
        .iter()
        .filter_map(|p| p.waybill_id.as_deref())
        .collect();
    assert_eq!(
        waybills,
        [
            &first, &first, &first, &first, &first, &first, &second, &second
        ],
        "the re-dispatch's pushes carry its new waybill"
    );
    // serve logged every attempt (a line written just after the handler answered).
    let logged = |console: &str| {
        console
            .lines()
            .filter(|l| l.contains(&format!("push {DADA}/{id} status")) && l.contains("delivered"))
            .count()
    };
    while logged(&serve.console()) < expected.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let console = serve.console();
    assert_eq!(logged(&console), expected.len(), "{console}");
}

#[tokio::test]
async fn a_merchants_whole_flow_with_signed_pushes() {
    flow(false).await;
}

#[tokio::test]
async fn a_merchants_whole_flow_with_safe_mode_pushes() {
    flow(true).await;
}
