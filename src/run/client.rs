//! The HTTP side of a step: one signed status update to the platform, and what came back.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::base::secret::{self, Secret};
use crate::model::carriers::Call;

/// The JSON body of `realmock_update_order` / `test_update_order`: exactly the documented
/// fields, numbers as numbers.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateOrder {
    pub shopid: String,
    pub shop_order_id: String,
    pub action_time: i64,
    pub order_status: u16,
    pub action_msg: String,
    /// Only realmock is signed; the sandbox call has no such field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_sign: Option<String>,
}

/// The platform's answer: `errcode` is WeChat's, `resultcode` the carrier's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub errcode: i64,
    pub errmsg: String,
    pub resultcode: i64,
    pub resultmsg: String,
}

impl Answer {
    /// The same answer with these secrets blanked out of its messages: a carrier may echo
    /// what it was sent.
    pub fn redacted(mut self, secrets: &[&Secret]) -> Answer {
        self.errmsg = secret::redact(&self.errmsg, secrets);
        self.resultmsg = secret::redact(&self.resultmsg, secrets);
        self
    }

    /// `errcode` absent or 0 and `resultcode` 0.
    pub fn is_success(&self) -> bool {
        self.errcode == 0 && self.resultcode == 0
    }
}

/// Why a call got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("cannot connect to {endpoint}: {detail}")]
    Connect { endpoint: String, detail: String },
    #[error("no answer within {}", crate::base::duration::format_duration(*.0))]
    Timeout(Duration),
    #[error("HTTP {status}: {excerpt}")]
    Http { status: u16, excerpt: String },
    #[error("unreadable answer: {0}")]
    Body(String),
    #[error("the connection closed before an answer: {0}")]
    Dropped(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// Timeouts for every call.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(15),
        }
    }
}

/// A client for one endpoint; the access token is given per call (it may be renewed).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    timeouts: Timeouts,
}

/// What `order/get` says of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderState {
    pub order_status: i64,
    pub waybill_id: String,
}

impl Client {
    pub fn new(endpoint: &str, timeouts: Timeouts) -> Result<Client, CallError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .user_agent(concat!("simulate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CallError::Other(e.to_string()))?;
        Ok(Client {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            timeouts,
        })
    }

    /// Sends one status update and reads the answer.
    pub async fn update_order(
        &self,
        call: Call,
        body: &UpdateOrder,
        token: &Secret,
    ) -> Result<Answer, CallError> {
        // The signature is derived from the appsecret: logs show that one was sent, not its value.
        tracing::debug!(
            call = call.name(),
            shopid = %body.shopid,
            shop_order_id = %body.shop_order_id,
            order_status = body.order_status,
            action_time = body.action_time,
            signed = body.delivery_sign.is_some(),
            "sending"
        );
        let text = self.post(call.path(), body, token).await?;
        parse_answer(&text).map_err(|detail| {
            CallError::Body(format!(
                "{detail}: {}",
                excerpt(&secret::redact(&text, &[token]))
            ))
        })
    }

    /// `order/get`: the order's status as the platform sees it.
    pub async fn order_get(
        &self,
        shopid: &str,
        shop_order_id: &str,
        delivery_sign: &str,
        token: &Secret,
    ) -> Result<(Answer, Option<OrderState>), CallError> {
        let body = serde_json::json!({
            "shopid": shopid,
            "shop_order_id": shop_order_id,
            "delivery_sign": delivery_sign,
        });
        let text = self.post(ORDER_GET, &body, token).await?;
        let answer = parse_answer(&text).map_err(CallError::Body)?;
        Ok((answer, order_state(&text)))
    }

    /// `order/add`: creates an order; the answer carries its `waybill_id`.
    pub async fn order_add(
        &self,
        body: &serde_json::Value,
        token: &Secret,
    ) -> Result<(Answer, Option<OrderState>), CallError> {
        let text = self.post(ORDER_ADD, body, token).await?;
        let answer = parse_answer(&text).map_err(CallError::Body)?;
        Ok((answer, order_state(&text)))
    }

    async fn post(
        &self,
        path: &str,
        body: &impl Serialize,
        token: &Secret,
    ) -> Result<String, CallError> {
        let url = format!("{}{}", self.endpoint, path);
        let response = self
            .http
            .post(&url)
            .query(&[("access_token", token.expose())])
            .json(body)
            .send()
            .await
            .map_err(|e| self.classify(e, token))?;
        let status = response.status();
        // Whatever comes back is outside text: bounded, and never carrying our token on.
        let text = secret::redact(&self.read_capped(response, token).await?, &[token]);
        tracing::debug!(path, http_status = status.as_u16(), body = %excerpt(&text), "answer");
        if !status.is_success() {
            return Err(CallError::Http {
                status: status.as_u16(),
                excerpt: excerpt(&text),
            });
        }
        Ok(text)
    }

    /// The answer's body, or an error when it is larger than any answer of the platform's.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        token: &Secret,
    ) -> Result<String, CallError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.classify(e, token))?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(CallError::Body(format!(
                    "the answer is larger than {} KiB, which no answer of the platform's is",
                    MAX_ANSWER_BYTES / 1024
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Turns a reqwest error into ours, without the URL (it carries the access token).
    fn classify(&self, error: reqwest::Error, token: &Secret) -> CallError {
        // A connect error (refused, reset, connect timeout) means nothing reached the platform.
        let is_connect = error.is_connect();
        let is_timeout = error.is_timeout();
        let after_connect = error.is_request() || error.is_body();
        let detail = secret::redact(&error_chain(&error.without_url()), &[token]);
        if is_connect {
            CallError::Connect {
                endpoint: self.endpoint.clone(),
                detail,
            }
        } else if is_timeout || error_chain_mentions_timeout(&detail) {
            CallError::Timeout(self.timeouts.total)
        } else if after_connect {
            // Connected, then the connection broke: the request may have reached the platform.
            CallError::Dropped(detail)
        } else {
            CallError::Other(detail)
        }
    }
}

/// The order's status and waybill in an answer, when it has a status.
fn order_state(text: &str) -> Option<OrderState> {
    let value = serde_json::from_str::<serde_json::Value>(text).ok()?;
    Some(OrderState {
        order_status: value.get("order_status")?.as_i64()?,
        waybill_id: value
            .get("waybill_id")
            .and_then(|w| w.as_str())
            .unwrap_or_default()
            .to_owned(),
    })
}

/// No answer of the platform's comes near this; a larger one is refused, not read into memory.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Messages from outside are cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 500;

const ORDER_GET: &str = "/cgi-bin/express/local/business/order/get";
const ORDER_ADD: &str = "/cgi-bin/express/local/business/order/add";

#[derive(Deserialize)]
struct RawAnswer {
    errcode: Option<i64>,
    errmsg: Option<String>,
    resultcode: Option<i64>,
    resultmsg: Option<String>,
}

/// Reads an answer body. `errcode` may be absent (success); without `errcode` or `resultcode`
/// the answer says nothing about the outcome, which we refuse to count as success.
pub fn parse_answer(text: &str) -> Result<Answer, String> {
    let raw: RawAnswer =
        serde_json::from_str(text).map_err(|e| format!("not the JSON we expect ({e})"))?;
    let errcode = raw.errcode.unwrap_or(0);
    let resultcode = match (raw.resultcode, errcode) {
        (Some(code), _) => code,
        (None, 0) if raw.errcode.is_some() => 0,
        (None, 0) => return Err("neither errcode nor resultcode in the answer".to_owned()),
        (None, _) => 0,
    };
    Ok(Answer {
        errcode,
        errmsg: cut(&raw.errmsg.unwrap_or_default()),
        resultcode,
        resultmsg: cut(&raw.resultmsg.unwrap_or_default()),
    })
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn error_chain_mentions_timeout(text: &str) -> bool {
    text.to_ascii_lowercase().contains("timed out")
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_two_level_model() {
        assert_eq!(
            parse_answer(r#"{"resultcode":0,"resultmsg":"ok"}"#),
            Ok(Answer {
                errcode: 0,
                errmsg: String::new(),
                resultcode: 0,
                resultmsg: "ok".into()
            })
        );
        let rejected = parse_answer(r#"{"errcode":0,"resultcode":2003,"resultmsg":"签名错误"}"#);
        assert_eq!(
            rejected.map(|a| (a.is_success(), a.resultcode)),
            Ok((false, 2003))
        );
        let platform = parse_answer(r#"{"errcode":930565,"errmsg":"order finished"}"#);
        assert_eq!(
            platform.map(|a| (a.is_success(), a.errcode)),
            Ok((false, 930565))
        );
        assert_eq!(
            parse_answer(r#"{"errcode":0,"errmsg":"ok"}"#).map(|a| a.is_success()),
            Ok(true)
        );
        assert!(parse_answer(r#"{"hello":1}"#).is_err());
        let long = format!(r#"{{"resultcode":5,"resultmsg":"{}"}}"#, "x".repeat(10_000));
        assert_eq!(
            parse_answer(&long).map(|a| a.resultmsg.chars().count()),
            Ok(501)
        );
        let echoed = Answer {
            resultmsg: "bad sign for secret-123456".into(),
            ..Answer::default()
        };
        assert_eq!(
            echoed.redacted(&[&Secret::new("secret-123456")]).resultmsg,
            "bad sign for ***"
        );
        assert!(parse_answer("<html>").is_err());
    }

    #[test]
    fn body_has_exactly_the_documented_fields() {
        let body = UpdateOrder {
            shopid: "test_shop_id".into(),
            shop_order_id: "订单001".into(),
            action_time: 1_700_000_000,
            order_status: 102,
            action_msg: "骑手已接单".into(),
            delivery_sign: None,
        };
        let json = serde_json::to_string(&body).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"shopid":"test_shop_id","shop_order_id":"订单001","action_time":1700000000,"order_status":102,"action_msg":"骑手已接单"}"#
        );
    }

    #[test]
    fn excerpts_are_short() {
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), 201);
    }
}
