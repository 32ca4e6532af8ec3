//! The HTTP side of a step: one signed status update to the platform, and what came back.

use std::sync::Arc;
use std::time::Duration;

use rust_i18n::t;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::base::i18n::Lang;

use crate::base::secret::{self, Secret};
use crate::model::carriers::Call;
use crate::wechat::api::{ACCESS_TOKEN_PARAM, Api};
use crate::wechat::body::{
    Answer, OrderGet, OrderState, UpdateOrder, parse_answer, parse_answer_and_state,
};

/// Why a call got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    Connect { endpoint: String, detail: String },
    Timeout(Duration),
    Http { status: u16, excerpt: String },
    Body(String),
    Dropped(String),
    Other(String),
}

impl std::error::Error for CallError {}

/// In English, as logs and machine-readable reports keep it.
impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe_in(Lang::En))
    }
}

impl CallError {
    /// What went wrong, for people.
    pub fn describe_in(&self, lang: Lang) -> String {
        let locale = lang.code();
        match self {
            CallError::Connect { endpoint, detail } => {
                t!(
                    "call.connect",
                    locale = locale,
                    endpoint = endpoint,
                    detail = detail
                )
            }
            CallError::Timeout(limit) => {
                let limit = crate::base::duration::format_duration(*limit);
                t!("call.timeout", locale = locale, limit = limit)
            }
            CallError::Http { status, excerpt } => {
                t!(
                    "call.http",
                    locale = locale,
                    status = status,
                    excerpt = excerpt
                )
            }
            CallError::Body(detail) => t!("call.body", locale = locale, detail = detail),
            CallError::Dropped(detail) => t!("call.dropped", locale = locale, detail = detail),
            CallError::Other(detail) => t!("call.other", locale = locale, detail = detail),
        }
        .into_owned()
    }

    /// Short machine-readable kind, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Connect { .. } => "unreachable",
            CallError::Timeout(_) => "timeout",
            CallError::Http { .. } => "http_error",
            CallError::Body(_) => "unreadable_answer",
            CallError::Other(_) => "request_failed",
            CallError::Dropped(_) => "connection_dropped",
        }
    }
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

/// Connections to the platform open at once, unless `--connections` says otherwise.
pub const DEFAULT_CONNECTIONS: std::num::NonZeroUsize =
    std::num::NonZeroUsize::MIN.saturating_add(31);

/// An idle pooled connection is closed after this long: well before the emulator's idle
/// timeout (60 s), so a reused connection is never one the server is closing.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// A client for one endpoint; the access token is given per call (it may be renewed).
///
/// At most `connections` calls are in flight at once, each on a kept-alive connection from a
/// pool of that size: a burst of orders waits for a connection instead of opening one per
/// order (which overflows a server's listen queue and waits out SYN retransmits).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    timeouts: Timeouts,
    connections: Arc<Semaphore>,
}

impl Client {
    pub fn new(
        endpoint: &str,
        timeouts: Timeouts,
        connections: usize,
    ) -> Result<Client, CallError> {
        let connections = connections.max(1);
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .pool_max_idle_per_host(connections)
            .pool_idle_timeout(POOL_IDLE)
            .tcp_nodelay(true)
            .user_agent(concat!("simulate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CallError::Other(e.to_string()))?;
        Ok(Client {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            timeouts,
            connections: Arc::new(Semaphore::new(connections)),
        })
    }

    /// Sends one status update and reads the answer.
    pub async fn update_order(
        &self,
        call: Call,
        body: &UpdateOrder,
        token: &Secret,
        handed: &crate::run::platform::HandedAt,
    ) -> Result<Answer, CallError> {
        let Some(api) = Api::for_call(call) else {
            // Scenarios with such a carrier are refused when loaded; never sent.
            return Err(CallError::Other(
                "no test call reaches this carrier".to_owned(),
            ));
        };
        // The signature is derived from the appsecret: logs show that one was sent, not its value.
        tracing::debug!(
            call = api.name(),
            shopid = %body.shopid,
            shop_order_id = %body.shop_order_id,
            order_status = body.order_status,
            action_time = body.action_time,
            signed = body.delivery_sign.is_some(),
            "sending"
        );
        let text = self.post(api.path(), body, token, Some(handed)).await?;
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
        body: &OrderGet,
        token: &Secret,
    ) -> Result<(Answer, Option<OrderState>), CallError> {
        let text = self.post(Api::Get.path(), body, token, None).await?;
        parse_answer_and_state(&text).map_err(CallError::Body)
    }

    /// `order/add`: creates an order; the answer carries its `waybill_id`.
    pub async fn order_add(
        &self,
        body: &serde_json::Value,
        token: &Secret,
    ) -> Result<(Answer, Option<OrderState>), CallError> {
        let text = self.post(Api::Add.path(), body, token, None).await?;
        parse_answer_and_state(&text).map_err(CallError::Body)
    }

    async fn post(
        &self,
        path: &str,
        body: &impl Serialize,
        token: &Secret,
        handed: Option<&crate::run::platform::HandedAt>,
    ) -> Result<String, CallError> {
        let url = format!("{}{}", self.endpoint, path);
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(path, body = %traced_body(body), "request");
        }
        // Held until the answer is read, so no more than `connections` are ever open. The wait
        // for it counts as lateness: the request is not the connection's until it has one. It is
        // taken before the request is built, so a burst of orders waiting for a connection holds
        // no request body each.
        let _connection = self
            .connections
            .acquire()
            .await
            .map_err(|e| CallError::Other(e.to_string()))?;
        let request = self
            .http
            .post(&url)
            .query(&[(ACCESS_TOKEN_PARAM, token.expose())])
            .json(body)
            .build()
            .map_err(|e| self.classify(e, token))?;
        // Built, serialized, a connection free: from here on it is the connection's (a pooled
        // one, or one opened now, whose setup counts as latency, not lateness).
        if let Some(handed) = handed {
            let _ = handed.set(tokio::time::Instant::now());
        }
        // Boxed: the HTTP exchange's state (kilobytes) exists only for the calls that have a
        // connection, not for every order of a burst waiting for one.
        let (status, response_headers, text) = Box::pin(self.exchange(request, token)).await?;
        // The connection goes back to the pool from a task of its own once the answer is read;
        // giving it its turn before the next call takes the slot keeps that call from racing
        // it with a new connection (hyper opens one when no idle connection is there yet).
        for _ in 0..RETURN_TURNS {
            tokio::task::yield_now().await;
        }
        tracing::debug!(path, http_status = status.as_u16(), body = %excerpt(&text), "answer");
        tracing::trace!(path, headers = ?response_headers, body = %text, "whole answer");
        if !status.is_success() {
            return Err(CallError::Http {
                status: status.as_u16(),
                excerpt: excerpt(&text),
            });
        }
        Ok(text)
    }

    /// Sends the request on its connection; the answer's status, headers and text.
    async fn exchange(
        &self,
        request: reqwest::Request,
        token: &Secret,
    ) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, String), CallError> {
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| self.classify(e, token))?;
        let status = response.status();
        let headers = response.headers().clone();
        // Whatever comes back is outside text: bounded, and never carrying our token on.
        let text = secret::redact(&self.read_capped(response, token).await?, &[token]);
        Ok((status, headers, text))
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

/// Turns given to the task that puts a connection back in the pool before its slot is free.
const RETURN_TURNS: usize = 3;

/// No answer of the platform's comes near this; a larger one is refused, not read into memory.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

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

/// A request body for `-vv`: in full, but the signature (derived from the appsecret) only
/// as present.
fn traced_body(body: &impl Serialize) -> String {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    if let Some(sign) = value.get_mut("delivery_sign")
        && !sign.is_null()
    {
        *sign = serde_json::Value::String("<redacted>".to_owned());
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short() {
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), 201);
    }
}
