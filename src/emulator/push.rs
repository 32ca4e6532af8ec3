//! The `update_waybill_status` push to the merchant's server.
//!
//! WeChat's rule: wait `push_timeout` (5 s) per attempt, up to `push_attempts` (3) attempts;
//! an attempt fails on timeout, connection error or a non-2xx answer. Retries go out at once
//! (the platform documents no back-off). Each order has its own queue and worker, so its pushes
//! arrive in order while API answers never wait for them.

use std::str::FromStr;
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::orders::{Book, Key, PushRecord};
use super::wire::now_rfc3339;

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

/// Where and how pushes go; one per emulator, shared by every order's worker.
#[derive(Clone)]
pub(crate) struct Pusher {
    client: reqwest::Client,
    url: String,
    pub format: PushFormat,
    timeout: Duration,
    attempts: u32,
    stop: watch::Receiver<bool>,
    /// Events queued or being delivered, so a caller can wait for the pushes to drain.
    pending: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Pusher {
    pub fn new(
        url: String,
        format: PushFormat,
        timeout: Duration,
        attempts: u32,
        stop: watch::Receiver<bool>,
    ) -> Result<Pusher, reqwest::Error> {
        // Loopback receivers must not go through a proxy from the environment.
        let client = reqwest::Client::builder().no_proxy().build()?;
        Ok(Pusher {
            client,
            url,
            format,
            timeout,
            attempts: attempts.max(1),
            stop,
            pending: std::sync::Arc::default(),
        })
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
            let (body, content_type) = event.render(self.format);
            for attempt in 1..=self.attempts {
                let started = Instant::now();
                let request = self
                    .client
                    .post(&self.url)
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body.clone())
                    .timeout(self.timeout)
                    .send();
                let result = tokio::select! {
                    result = request => result,
                    _ = self.stop.changed() => return,
                };
                let (delivered, detail, http_status) = match result {
                    Ok(response) if response.status().is_success() => (
                        true,
                        format!("HTTP {}", response.status().as_u16()),
                        Some(response.status().as_u16()),
                    ),
                    Ok(response) => (
                        false,
                        format!("HTTP {}", response.status().as_u16()),
                        Some(response.status().as_u16()),
                    ),
                    Err(e) if e.is_timeout() => (
                        false,
                        format!("timeout after {} ms", self.timeout.as_millis()),
                        None,
                    ),
                    // Without the URL: a merchant URL may carry its own token.
                    Err(e) => (
                        false,
                        format!("connection error: {}", error_chain(&e.without_url())),
                        None,
                    ),
                };
                let record = PushRecord {
                    time: now_rfc3339(),
                    order_status: event.order_status,
                    attempt,
                    of: self.attempts,
                    format: self.format.name(),
                    outcome: if delivered { "delivered" } else { "failed" },
                    detail,
                    http_status,
                    elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    gave_up: !delivered && attempt == self.attempts,
                };
                let Some(book) = book.upgrade() else { return };
                book.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .record_push(&key, record);
                if delivered {
                    break;
                }
            }
            self.pending
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
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

    #[test]
    fn formats_parse() {
        assert_eq!("JSON".parse::<PushFormat>(), Ok(PushFormat::Json));
        assert_eq!("xml".parse::<PushFormat>(), Ok(PushFormat::Xml));
        assert!("yaml".parse::<PushFormat>().is_err());
    }
}
