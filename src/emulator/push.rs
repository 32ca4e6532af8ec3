//! The `update_waybill_status` push to the merchant's server.
//!
//! WeChat's rule: wait `push_timeout` (5 s) per attempt, up to `push_attempts` (3) attempts;
//! an attempt fails on timeout, connection error or a non-2xx answer. The platform documents no
//! back-off; attempts are spaced by `retry_delay` so that they never arrive in one burst. Each
//! order has its own queue and worker, so its pushes arrive in order while API answers never
//! wait for them.
//!
//! With a push Token every URL carries `signature`, `timestamp` and `nonce`; in safe and
//! compatible mode the body carries `Encrypt` and the URL `encrypt_type=aes` and
//! `msg_signature`, as WeChat sends them (see [`crate::wechat::push`]).

use std::str::FromStr;
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use rust_i18n::t;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::orders::{Book, Key, PushRecord};
use super::wire::now_rfc3339;
use crate::base::i18n::Lang;
use crate::base::secret::Secret;
use crate::base::text::terminal_safe;
use crate::wechat::push::{self as protocol, AesKey, PushMode};

/// The body format of pushes (the MP backend's 数据格式 setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushFormat {
    /// JSON, which the immediate-delivery guide asks merchants to use.
    #[default]
    Json,
    /// `<xml>…</xml>` with CDATA strings, the platform-wide default.
    Xml,
}

impl PushFormat {
    pub fn name(self) -> &'static str {
        match self {
            PushFormat::Json => "json",
            PushFormat::Xml => "xml",
        }
    }
}

impl FromStr for PushFormat {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(PushFormat::Json),
            "xml" => Ok(PushFormat::Xml),
            other => Err(format!("push format `{other}`: use json or xml")),
        }
    }
}

impl std::fmt::Display for PushFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The event, with the fields (and field order) of the official example.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Event {
    #[serde(rename = "ToUserName")]
    pub to_user_name: String,
    #[serde(rename = "FromUserName")]
    pub from_user_name: String,
    #[serde(rename = "CreateTime")]
    pub create_time: i64,
    #[serde(rename = "MsgType")]
    pub msg_type: &'static str,
    #[serde(rename = "Event")]
    pub event: &'static str,
    pub shopid: String,
    pub shop_order_id: String,
    pub waybill_id: String,
    pub action_time: i64,
    pub order_status: u16,
    pub action_msg: String,
    pub shop_no: String,
    pub agent: Agent,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Agent {
    pub name: String,
    pub phone: String,
    /// Expected arrival (Unix seconds), only while delivering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach_time: Option<i64>,
}

/// The fixed sender of platform events. The real one is an undocumented WeChat-team OpenID;
/// this is ours, in the same 28-character shape.
pub(crate) const FROM_USER_NAME: &str = "oSIMwechatDeliveryPlatform01";

/// The Mini Program's `gh_` user name, made up from its appid.
pub(crate) fn to_user_name(appid: &str) -> String {
    let tail: String = appid
        .trim_start_matches("wx")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    format!("gh_{tail}")
}

impl Event {
    pub fn render(&self, format: PushFormat) -> (String, &'static str) {
        match format {
            PushFormat::Json => (
                serde_json::to_string(self).unwrap_or_default(),
                "application/json",
            ),
            PushFormat::Xml => (self.xml(), "text/xml"),
        }
    }

    fn xml(&self) -> String {
        let text = |name: &str, value: &str| format!("<{name}>{}</{name}>", cdata(value));
        let number = |name: &str, value: i64| format!("<{name}>{value}</{name}>");
        let mut out = String::from("<xml>");
        out += &text("ToUserName", &self.to_user_name);
        out += &text("FromUserName", &self.from_user_name);
        out += &number("CreateTime", self.create_time);
        out += &text("MsgType", self.msg_type);
        out += &text("Event", self.event);
        out += &text("shopid", &self.shopid);
        out += &text("shop_order_id", &self.shop_order_id);
        out += &text("waybill_id", &self.waybill_id);
        out += &number("action_time", self.action_time);
        out += &number("order_status", i64::from(self.order_status));
        out += &text("action_msg", &self.action_msg);
        out += &text("shop_no", &self.shop_no);
        out += "<agent>";
        out += &text("name", &self.agent.name);
        out += &text("phone", &self.agent.phone);
        if let Some(reach) = self.agent.reach_time {
            out += &number("reach_time", reach);
        }
        out += "</agent></xml>";
        out
    }
}

/// A CDATA section; a `]]>` inside the text is split across two sections.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// Why the push URL failed the check made when a merchant saves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlCheckFailure {
    Timeout(Duration),
    Connection(String),
    /// Answered, but not with a 2xx status.
    Status(u16),
    /// Answered 2xx with something other than the `echostr` sent.
    NotEchoed {
        status: u16,
        answered: String,
        echostr: String,
    },
}

impl UrlCheckFailure {
    /// The console's warning, in the current language; `serve` still starts.
    pub fn warning(&self) -> String {
        let text = match self {
            UrlCheckFailure::Timeout(limit) => {
                t!("serve.url_check_timeout", ms = limit.as_millis())
            }
            UrlCheckFailure::Connection(detail) => {
                t!("serve.url_check_connection", detail = terminal_safe(detail))
            }
            UrlCheckFailure::Status(status) => t!("serve.url_check_status", status = status),
            UrlCheckFailure::NotEchoed {
                status,
                answered,
                echostr,
            } => t!(
                "serve.url_check_not_echoed",
                status = status,
                answered = terminal_safe(answered),
                echostr = echostr
            ),
        };
        text.into_owned()
    }
}

/// How pushes are signed and sealed: the merchant's message-push settings.
#[derive(Debug, Clone, Default)]
pub struct PushSecurity {
    /// The "Token" of the push settings; without it URLs carry no signature.
    pub token: Option<Secret>,
    pub mode: PushMode,
    /// The EncodingAESKey, required for compatible and safe mode.
    pub aes_key: Option<AesKey>,
    /// The Mini Program whose pushes these are (sealed into safe-mode messages).
    pub appid: String,
}

/// One push attempt as it goes out: the query string, the body and its type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub query: Vec<(&'static str, String)>,
    pub body: String,
    pub content_type: &'static str,
}

impl PushSecurity {
    /// The attempt for `event`, signed at `timestamp` with `nonce`; `random` seeds the
    /// 16 random bytes of a sealed message.
    pub(crate) fn outgoing(
        &self,
        event: &Event,
        format: PushFormat,
        timestamp: &str,
        nonce: &str,
        random: [u8; 16],
    ) -> Outgoing {
        let (plain, content_type) = event.render(format);
        let mut query = Vec::new();
        let token = self.token.clone().unwrap_or_else(|| Secret::new(""));
        if self.token.is_some() {
            query.push(("signature", protocol::signature(&token, timestamp, nonce)));
            query.push(("timestamp", timestamp.to_owned()));
            query.push(("nonce", nonce.to_owned()));
        }
        let sealed = match (&self.aes_key, self.mode.encrypts()) {
            (Some(key), true) => Some(key.encrypt(random, &plain, &self.appid)),
            _ => None,
        };
        let Some(encrypt) = sealed else {
            return Outgoing {
                query,
                body: plain,
                content_type,
            };
        };
        if self.token.is_none() {
            query.push(("timestamp", timestamp.to_owned()));
            query.push(("nonce", nonce.to_owned()));
        }
        query.push(("encrypt_type", "aes".to_owned()));
        query.push((
            "msg_signature",
            protocol::msg_signature(&token, timestamp, nonce, &encrypt),
        ));
        let body = match (self.mode, format) {
            (PushMode::Safe, PushFormat::Json) => serde_json::json!({
                "ToUserName": event.to_user_name,
                "Encrypt": encrypt,
            })
            .to_string(),
            (PushMode::Safe, PushFormat::Xml) => format!(
                "<xml><ToUserName>{}</ToUserName><Encrypt>{}</Encrypt></xml>",
                cdata(&event.to_user_name),
                cdata(&encrypt)
            ),
            // Compatible mode: the plain message with its sealed copy beside it.
            (_, PushFormat::Json) => {
                let mut value = serde_json::to_value(event).unwrap_or_default();
                if let Some(map) = value.as_object_mut() {
                    map.insert("Encrypt".to_owned(), encrypt.into());
                }
                value.to_string()
            }
            (_, PushFormat::Xml) => match plain.strip_suffix("</xml>") {
                Some(open) => format!("{open}<Encrypt>{}</Encrypt></xml>", cdata(&encrypt)),
                None => plain,
            },
        };
        Outgoing {
            query,
            body,
            content_type,
        }
    }
}

/// Where and how pushes go; one per emulator, shared by every order's worker.
#[derive(Clone)]
pub(crate) struct Pusher {
    client: reqwest::Client,
    url: String,
    pub format: PushFormat,
    security: PushSecurity,
    timeout: Duration,
    attempts: u32,
    /// The pause after a failed attempt before the next.
    retry_delay: Duration,
    stop: watch::Receiver<bool>,
    /// Events queued or being delivered, so a caller can wait for the pushes to drain.
    pending: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// One stderr line per attempt (`simulate serve`).
    log: bool,
}

impl Pusher {
    pub fn new(
        url: String,
        format: PushFormat,
        security: PushSecurity,
        (timeout, attempts, retry_delay): (Duration, u32, Duration),
        stop: watch::Receiver<bool>,
        log: bool,
    ) -> Result<Pusher, reqwest::Error> {
        // Loopback receivers must not go through a proxy from the environment.
        let client = reqwest::Client::builder().no_proxy().build()?;
        Ok(Pusher {
            client,
            url,
            format,
            security,
            timeout,
            attempts: attempts.max(1),
            retry_delay,
            stop,
            pending: std::sync::Arc::default(),
            log,
        })
    }

    /// The check the platform makes when a merchant saves the push URL: a GET with
    /// `signature`, `timestamp`, `nonce` and `echostr`, which must answer `echostr` itself.
    pub async fn verify_url(&self) -> Result<(), UrlCheckFailure> {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let nonce = nonce();
        let echostr = format!(
            "{}",
            u64::from_be_bytes(random_bytes()[..8].try_into().unwrap_or_default())
        );
        let token = self
            .security
            .token
            .clone()
            .unwrap_or_else(|| Secret::new(""));
        let query = [
            ("signature", protocol::signature(&token, &timestamp, &nonce)),
            ("timestamp", timestamp),
            ("nonce", nonce),
            ("echostr", echostr.clone()),
        ];
        let response = self
            .client
            .get(&self.url)
            .query(&query)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    UrlCheckFailure::Timeout(self.timeout)
                } else {
                    UrlCheckFailure::Connection(error_chain(&e.without_url()))
                }
            })?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(UrlCheckFailure::Status(status));
        }
        if body.trim() != echostr {
            return Err(UrlCheckFailure::NotEchoed {
                status,
                answered: body.trim().chars().take(60).collect(),
                echostr,
            });
        }
        Ok(())
    }

    /// Queues an event for an order's worker.
    pub fn enqueue(&self, queue: &mpsc::UnboundedSender<Event>, event: Event) {
        use std::sync::atomic::Ordering;
        self.pending.fetch_add(1, Ordering::SeqCst);
        // A closed queue means the emulator is stopping; the push is simply not sent.
        if queue.send(event).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Events not yet delivered or given up on.
    pub fn pending(&self) -> usize {
        self.pending.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts an order's push worker and returns its queue.
    pub fn spawn_queue(&self, book: Weak<Mutex<Book>>, key: Key) -> mpsc::UnboundedSender<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(self.clone().run(book, key, rx));
        tx
    }

    async fn run(
        mut self,
        book: Weak<Mutex<Book>>,
        key: Key,
        mut rx: mpsc::UnboundedReceiver<Event>,
    ) {
        loop {
            let event = tokio::select! {
                event = rx.recv() => match event {
                    Some(event) => event,
                    None => return,
                },
                _ = self.stop.changed() => return,
            };
            for attempt in 1..=self.attempts {
                if attempt > 1 {
                    tokio::select! {
                        () = tokio::time::sleep(self.retry_delay) => {}
                        _ = self.stop.changed() => return,
                    }
                }
                // Every attempt is signed afresh, as the platform does.
                let outgoing = self.security.outgoing(
                    &event,
                    self.format,
                    &chrono::Utc::now().timestamp().to_string(),
                    &nonce(),
                    random_bytes(),
                );
                let started = Instant::now();
                let request = self
                    .client
                    .post(&self.url)
                    .query(&outgoing.query)
                    .header(reqwest::header::CONTENT_TYPE, outgoing.content_type)
                    .body(outgoing.body)
                    .timeout(self.timeout)
                    .send();
                let exchange = async {
                    let response = request.await?;
                    let status = response.status().as_u16();
                    Ok::<_, reqwest::Error>((status, read_reply(response).await))
                };
                let result = tokio::select! {
                    result = exchange => result,
                    _ = self.stop.changed() => return,
                };
                let answer = match result {
                    Ok((status, reply)) => Answer::Reply(status, reply),
                    Err(e) if e.is_timeout() => Answer::Timeout(self.timeout.as_millis()),
                    // Without the URL: a merchant URL may carry its own token.
                    Err(e) => Answer::Connection(error_chain(&e.without_url())),
                };
                // The order's history keeps it in English (it is read by programs); the
                // console says it in the chosen language.
                let (delivered, detail) = answer.judge(Lang::En);
                let http_status = match &answer {
                    Answer::Reply(status, _) => Some(*status),
                    _ => None,
                };
                let record = PushRecord {
                    time: now_rfc3339(),
                    order_status: event.order_status,
                    attempt,
                    of: self.attempts,
                    format: self.format.name().to_owned(),
                    outcome: if delivered { "delivered" } else { "failed" }.to_owned(),
                    detail,
                    http_status,
                    elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    gave_up: !delivered && attempt == self.attempts,
                };
                if self.log {
                    // The order's names come from the merchant: escaped before the terminal.
                    let order = terminal_safe(&format!("{}/{}", key.0, key.1)).into_owned();
                    let detail = answer.judge(crate::base::i18n::current()).1;
                    let detail = terminal_safe(&detail).into_owned();
                    let line = if delivered {
                        t!(
                            "serve.push_delivered",
                            time = record.time,
                            order = order,
                            status = record.order_status,
                            attempt = record.attempt,
                            of = record.of,
                            detail = detail,
                            ms = record.elapsed_ms
                        )
                    } else {
                        t!(
                            "serve.push_failed",
                            time = record.time,
                            order = order,
                            status = record.order_status,
                            attempt = record.attempt,
                            of = record.of,
                            detail = detail,
                            ms = record.elapsed_ms
                        )
                    };
                    crate::base::console::err(&format!("{line}\n"));
                }
                let Some(book) = book.upgrade() else { return };
                let mut book = book
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                book.record_push(&key, record);
                if let Err(e) = book.persist() {
                    let warning = t!("serve.push_not_saved", error = e.to_string());
                    crate::base::console::err(&format!("{warning}\n"));
                }
                drop(book);
                if delivered {
                    break;
                }
            }
            self.pending
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// 16 random bytes (uuid's v4 draws them from the system's generator).
fn random_bytes() -> [u8; 16] {
    uuid::Uuid::new_v4().into_bytes()
}

/// A fresh nonce of digits, as WeChat's are.
fn nonce() -> String {
    let [a, b, c, d, ..] = random_bytes();
    format!("{:010}", u32::from_be_bytes([a, b, c, d]))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The most of a handler's reply that is read and kept: enough for its `resultmsg`.
const REPLY_EXCERPT: usize = 200;

/// The start of a handler's reply (what follows is not needed to judge it).
async fn read_reply(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() >= 4 * 1024 {
            break;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What came back from one push attempt.
enum Answer {
    /// The HTTP status and the reply's body.
    Reply(u16, String),
    /// No answer within this many milliseconds.
    Timeout(u128),
    /// The connection failed: the HTTP library's words.
    Connection(String),
}

impl Answer {
    /// Whether the push was accepted, and what came back, in `lang`.
    fn judge(&self, lang: Lang) -> (bool, String) {
        let locale = lang.code();
        match self {
            Answer::Reply(status, reply) => judge_reply_in(*status, reply, lang),
            Answer::Timeout(ms) => (false, t!("push.timeout", locale = locale, ms = ms).into()),
            Answer::Connection(detail) => (
                false,
                t!("push.connection", locale = locale, detail = detail).into(),
            ),
        }
    }
}

/// [`judge_reply_in`] in English, as the order's history keeps it.
#[cfg(test)]
fn judge_reply(status: u16, reply: &str) -> (bool, String) {
    judge_reply_in(status, reply, Lang::En)
}

/// Whether a push was accepted, and how to say what came back. Accepted: a 2xx with an empty
/// body or `success` (the message-push guide), or a reply whose `resultcode` is 0 or absent
/// (the event's documented reply); a non-zero `resultcode` is the merchant refusing it.
fn judge_reply_in(status: u16, reply: &str, lang: Lang) -> (bool, String) {
    let text = reply.trim();
    let excerpt: String = text.chars().take(REPLY_EXCERPT).collect();
    if !(200..300).contains(&status) {
        return if excerpt.is_empty() {
            (false, format!("HTTP {status}"))
        } else {
            (false, format!("HTTP {status}: {excerpt}"))
        };
    }
    match reply_resultcode(text) {
        Some(code) if code != 0 => (
            false,
            t!(
                "push.refused_by_handler",
                locale = lang.code(),
                status = status,
                excerpt = excerpt
            )
            .into_owned(),
        ),
        _ => (true, format!("HTTP {status}")),
    }
}

/// `resultcode` of a JSON or XML reply, if it has one.
fn reply_resultcode(text: &str) -> Option<i64> {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        return value.get("resultcode").and_then(serde_json::Value::as_i64);
    }
    let start = text.find("<resultcode>")? + "<resultcode>".len();
    let end = start + text[start..].find("</resultcode>")?;
    let inner = text[start..end].trim();
    let inner = inner
        .strip_prefix("<![CDATA[")
        .and_then(|v| v.strip_suffix("]]>"))
        .unwrap_or(inner);
    inner.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(reach_time: Option<i64>) -> Event {
        Event {
            to_user_name: to_user_name("wxsimulate0000dev"),
            from_user_name: FROM_USER_NAME.into(),
            create_time: 1_546_924_844,
            msg_type: "event",
            event: "update_waybill_status",
            shopid: "123456".into(),
            shop_order_id: "123456".into(),
            waybill_id: "123456".into(),
            action_time: 1_546_924_844,
            order_status: 102,
            action_msg: "a]]>b".into(),
            shop_no: "123456".into(),
            agent: Agent {
                name: "xxx".into(),
                phone: "1234567".into(),
                reach_time,
            },
        }
    }

    #[test]
    fn a_reply_is_judged_by_its_status_and_resultcode() {
        assert_eq!(judge_reply(200, ""), (true, "HTTP 200".to_owned()));
        assert_eq!(judge_reply(200, "success"), (true, "HTTP 200".to_owned()));
        assert!(judge_reply(200, r#"{"resultcode":0,"resultmsg":"ok"}"#).0);
        assert!(judge_reply(200, "<xml><resultcode>0</resultcode></xml>").0);
        let (ok, detail) = judge_reply(200, r#"{"errcode":1,"resultcode":1,"resultmsg":"fail"}"#);
        assert!(!ok);
        assert!(
            detail.contains("refused by the handler") && detail.contains("fail"),
            "{detail}"
        );
        assert!(!judge_reply(200, "<xml><resultcode><![CDATA[7]]></resultcode></xml>").0);
        assert_eq!(
            judge_reply(403, "signature mismatch"),
            (false, "HTTP 403: signature mismatch".to_owned())
        );
        assert_eq!(judge_reply(500, ""), (false, "HTTP 500".to_owned()));
        let long = "x".repeat(1000);
        assert!(judge_reply(403, &long).1.len() < 220);
    }

    #[test]
    fn json_matches_the_official_example_shape() {
        let (body, content_type) = event(None).render(PushFormat::Json);
        assert_eq!(content_type, "application/json");
        let expected = r#"{"ToUserName":"gh_simulate0000","FromUserName":"oSIMwechatDeliveryPlatform01","CreateTime":1546924844,"MsgType":"event","Event":"update_waybill_status","shopid":"123456","shop_order_id":"123456","waybill_id":"123456","action_time":1546924844,"order_status":102,"action_msg":"a]]>b","shop_no":"123456","agent":{"name":"xxx","phone":"1234567"}}"#;
        assert_eq!(body, expected);
        assert_eq!(FROM_USER_NAME.len(), 28);
    }

    #[test]
    fn xml_wraps_strings_in_cdata() {
        let (body, content_type) = event(Some(1_546_925_000)).render(PushFormat::Xml);
        assert_eq!(content_type, "text/xml");
        assert!(body.starts_with("<xml><ToUserName><![CDATA[gh_simulate0000]]></ToUserName>"));
        assert!(body.contains("<CreateTime>1546924844</CreateTime>"));
        assert!(body.contains("<order_status>102</order_status>"));
        assert!(body.contains("<action_msg><![CDATA[a]]]]><![CDATA[>b]]></action_msg>"));
        assert!(body.ends_with(
            "<agent><name><![CDATA[xxx]]></name><phone><![CDATA[1234567]]></phone><reach_time>1546925000</reach_time></agent></xml>"
        ));
    }

    fn security(mode: PushMode) -> PushSecurity {
        let key = Secret::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
        PushSecurity {
            token: Some(Secret::new("push-token")),
            mode,
            aes_key: AesKey::parse(&key).ok(),
            appid: "wxsimulate0000dev".to_owned(),
        }
    }

    fn query<'a>(out: &'a Outgoing, name: &str) -> &'a str {
        out.query
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    #[test]
    fn without_a_token_a_push_is_the_plain_message_on_a_bare_url() {
        let out =
            PushSecurity::default().outgoing(&event(None), PushFormat::Json, "1", "2", [0; 16]);
        assert!(out.query.is_empty());
        assert_eq!(out.body, event(None).render(PushFormat::Json).0);
    }

    #[test]
    fn a_token_signs_the_url_with_timestamp_and_nonce() {
        let out = security(PushMode::Plain).outgoing(
            &event(None),
            PushFormat::Json,
            "1700000000",
            "42",
            [0; 16],
        );
        let names: Vec<&str> = out.query.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["signature", "timestamp", "nonce"]);
        assert_eq!(
            query(&out, "signature"),
            protocol::sorted_sha1(&["push-token", "1700000000", "42"])
        );
    }

    #[test]
    fn safe_mode_sends_only_the_sealed_message() {
        let sec = security(PushMode::Safe);
        for format in [PushFormat::Json, PushFormat::Xml] {
            let out = sec.outgoing(&event(None), format, "1700000000", "42", [7; 16]);
            assert_eq!(query(&out, "encrypt_type"), "aes");
            let encrypt = match format {
                PushFormat::Json => {
                    let value: serde_json::Value =
                        serde_json::from_str(&out.body).unwrap_or_default();
                    assert_eq!(value["ToUserName"], "gh_simulate0000");
                    assert!(value.get("order_status").is_none(), "nothing in the clear");
                    value["Encrypt"].as_str().unwrap_or_default().to_owned()
                }
                PushFormat::Xml => {
                    assert!(!out.body.contains("order_status"));
                    let start = out
                        .body
                        .find("<Encrypt><![CDATA[")
                        .map(|i| i + 18)
                        .unwrap_or(0);
                    let end = out.body.find("]]></Encrypt>").unwrap_or(0);
                    out.body[start..end].to_owned()
                }
            };
            assert_eq!(
                query(&out, "msg_signature"),
                protocol::sorted_sha1(&["push-token", "1700000000", "42", &encrypt])
            );
            let opened = sec.aes_key.as_ref().map(|k| k.decrypt(&encrypt));
            assert_eq!(
                opened,
                Some(Ok((
                    event(None).render(format).0,
                    "wxsimulate0000dev".to_owned()
                )))
            );
        }
    }

    #[test]
    fn compatible_mode_sends_the_message_and_its_sealed_copy() {
        let sec = security(PushMode::Compat);
        let json = sec.outgoing(&event(None), PushFormat::Json, "1", "2", [1; 16]);
        let value: serde_json::Value = serde_json::from_str(&json.body).unwrap_or_default();
        assert_eq!(value["order_status"], 102);
        assert!(value["Encrypt"].is_string());
        let xml = sec.outgoing(&event(None), PushFormat::Xml, "1", "2", [1; 16]);
        assert!(xml.body.contains("<order_status>102</order_status>"));
        assert!(xml.body.contains("<Encrypt><![CDATA["));
        assert!(xml.body.ends_with("</Encrypt></xml>"));
    }

    #[test]
    fn formats_parse() {
        assert_eq!("JSON".parse::<PushFormat>(), Ok(PushFormat::Json));
        assert_eq!("xml".parse::<PushFormat>(), Ok(PushFormat::Xml));
        assert!("yaml".parse::<PushFormat>().is_err());
    }
}
