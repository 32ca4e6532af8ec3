//! What goes over the wire: request fields, the two-level answer (`errcode` / `resultcode`),
//! request ids, and redaction of anything secret before it is logged or kept.

use crate::wechat::errcode;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One answer, with what the log and the order history say about it.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    /// `None` for answers that are not JSON (injected HTTP errors).
    pub body: Option<Value>,
    // Boxed: a Reply is the `Err` of most checks and should stay small.
    pub verdict: Box<Verdict>,
    /// Close the connection without answering (the `drop` fault).
    pub drop_connection: bool,
}

/// The outcome of one call, as recorded in the history and logged (never a secret).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Verdict {
    pub http_status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resultcode: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resultmsg: Option<String>,
    /// The injected fault that shaped this answer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

impl Verdict {
    /// A short form for the log: `errcode=0 resultcode=2003`.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("http={}", self.http_status)];
        if let Some(code) = self.errcode {
            parts.push(format!("errcode={code}"));
        }
        if let Some(code) = self.resultcode {
            parts.push(format!("resultcode={code}"));
        }
        if let Some(fault) = &self.fault {
            parts.push(format!("fault=\"{fault}\""));
        }
        parts.join(" ")
    }
}

impl Reply {
    /// A platform-level refusal: `{"errcode":N,"errmsg":"... rid: ..."}`.
    pub fn error(errcode: i64, message: impl AsRef<str>) -> Reply {
        let errmsg = format!("{} rid: {}", message.as_ref(), rid());
        Reply::json(
            json!({ "errcode": errcode, "errmsg": errmsg }),
            Verdict {
                errcode: Some(errcode),
                errmsg: Some(errmsg.clone()),
                ..Verdict::default()
            },
        )
    }

    /// `930561 args error`, saying which field was wrong.
    pub fn args(detail: impl AsRef<str>) -> Reply {
        Reply::error(
            errcode::ARGS_ERROR,
            format!("args error: {}", detail.as_ref()),
        )
    }

    /// A carrier-level refusal: the platform passed the call on (`errcode` 0) and the carrier
    /// said no. `zeros` are the business fields the platform still fills with zero values.
    pub fn carrier(
        resultcode: i64,
        resultmsg: impl Into<String>,
        zeros: Map<String, Value>,
    ) -> Reply {
        let resultmsg = resultmsg.into();
        let mut body = Map::new();
        body.insert("errcode".into(), json!(0));
        body.insert("errmsg".into(), json!("ok"));
        body.insert("resultcode".into(), json!(resultcode));
        body.insert("resultmsg".into(), json!(resultmsg));
        body.extend(zeros);
        Reply::json(
            Value::Object(body),
            Verdict {
                errcode: Some(0),
                errmsg: Some("ok".into()),
                resultcode: Some(resultcode),
                resultmsg: Some(resultmsg),
                ..Verdict::default()
            },
        )
    }

    /// Success, with the API's own fields after the four codes.
    pub fn ok(fields: Map<String, Value>) -> Reply {
        Reply::carrier(0, "ok", fields)
    }

    /// A JSON answer that is not in the errcode/resultcode shape (tokens, inspection).
    pub fn json(body: Value, mut verdict: Verdict) -> Reply {
        verdict.http_status = 200;
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            verdict: Box::new(verdict),
            drop_connection: false,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Reply {
        self.status = status;
        self.verdict.http_status = status.as_u16();
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match (&self.body, self.status) {
            (Some(body), status) => (status, axum::Json(body.clone())).into_response(),
            (None, status) => (
                status,
                status.canonical_reason().unwrap_or("error").to_owned(),
            )
                .into_response(),
        };
        response.extensions_mut().insert(*self.verdict);
        response
    }
}

/// A request id in the platform's shape, `xxxxxxxx-xxxxxxxx-xxxxxxxx` (hex).
pub(crate) fn rid() -> String {
    // Not from the fault RNG: request ids must not shift the seeded fault sequence.
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}-{}", &hex[0..8], &hex[8..16], &hex[16..24])
}

/// A JSON request body, read field by field the way the platform checks it.
pub(crate) struct Fields {
    map: Map<String, Value>,
}

/// A missing or ill-typed field, in words for `args error: ...`.
pub(crate) type ArgsError = String;

impl Fields {
    /// `Err` is the 47001 answer: the body is not a JSON object.
    pub fn parse(body: &[u8]) -> Result<Fields, Reply> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Fields { map }),
            Ok(_) => Err(Reply::error(
                errcode::DATA_FORMAT_ERROR,
                "data format error: the body must be a JSON object",
            )),
            Err(e) => Err(Reply::error(
                errcode::DATA_FORMAT_ERROR,
                format!("data format error: body is not JSON ({e})"),
            )),
        }
    }

    /// The whole body.
    pub fn body(&self) -> &Map<String, Value> {
        &self.map
    }

    /// A required string; empty counts as missing, as the platform checks it.
    pub fn string(&self, name: &str) -> Result<&str, ArgsError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Err(format!("{name} is missing")),
            Some(Value::String(s)) if s.is_empty() => Err(format!("{name} is empty")),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!("{name} must be a string, got {}", kind(other))),
        }
    }

    pub fn opt_string(&self, name: &str) -> Result<Option<&str>, ArgsError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("{name} must be a string, got {}", kind(other))),
        }
    }

    /// A required whole number; `"102"` (a string) is refused, as the platform does.
    pub fn integer(&self, name: &str) -> Result<i64, ArgsError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Err(format!("{name} is missing")),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| format!("{name} must be a whole number, got {n}")),
            Some(other) => Err(format!("{name} must be a number, got {}", kind(other))),
        }
    }

    pub fn opt_integer(&self, name: &str) -> Result<Option<i64>, ArgsError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.integer(name).map(Some),
        }
    }

    /// A required JSON number (whole or not); a number in a string is refused.
    pub fn number(&self, name: &str) -> Result<f64, ArgsError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Err(format!("{name} is missing")),
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| format!("{name} is not a usable number")),
            Some(other) => Err(format!("{name} must be a number, got {}", kind(other))),
        }
    }

    pub fn object(&self, name: &str) -> Result<&Map<String, Value>, ArgsError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Err(format!("{name} is missing")),
            Some(Value::Object(o)) => Ok(o),
            Some(other) => Err(format!("{name} must be an object, got {}", kind(other))),
        }
    }

    pub fn opt_object(&self, name: &str) -> Result<Option<&Map<String, Value>>, ArgsError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.object(name).map(Some),
        }
    }

    /// Top-level fields the API's documentation does not list, sorted.
    pub fn undocumented(&self, documented: &[&str]) -> Vec<String> {
        let mut extra: Vec<String> = self
            .map
            .keys()
            .filter(|k| !documented.contains(&k.as_str()))
            .cloned()
            .collect();
        extra.sort_unstable();
        extra
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Field names whose values are credentials wherever they appear.
const SECRET_KEYS: [&str; 7] = [
    "access_token",
    "authorizer_access_token",
    "component_access_token",
    "secret",
    "appsecret",
    "app_secret",
    "appSecret",
];

fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// The request body as kept in the history: fields named like credentials are blanked and any
/// string holding a known secret or an issued token is redacted. `delivery_sign` stays only
/// with `show_signatures` (it helps debug a signature mismatch, but a weak appsecret can be
/// brute-forced from it). A body longer than `max_bytes` is kept as an excerpt:
/// `{"excerpt": "<first max_bytes of the redacted body>", "bytes": N}`.
pub(crate) fn redact_body(
    body: &[u8],
    secrets: &[&crate::base::secret::Secret],
    show_signatures: bool,
    max_bytes: usize,
) -> Value {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let kept = match parsed {
        Some(value) => {
            let mut value = redact_value(value, secrets);
            if !show_signatures
                && let Some(sign) = value.get_mut("delivery_sign")
                && sign.is_string()
            {
                *sign = Value::String(crate::base::secret::REDACTED.into());
            }
            value
        }
        None => Value::String(redact_text(&String::from_utf8_lossy(body), secrets)),
    };
    if body.len() <= max_bytes {
        return kept;
    }
    // Redacted whole first, so a cut can never leave part of a secret.
    let text = match &kept {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    json!({ "excerpt": &text[..end], "bytes": body.len() })
}

fn redact_text(text: &str, secrets: &[&crate::base::secret::Secret]) -> String {
    let text = crate::base::secret::redact(text, secrets);
    super::tokens::redact_issued(&text).into_owned()
}

fn redact_value(value: Value, secrets: &[&crate::base::secret::Secret]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    if is_secret_key(&k) {
                        (k, Value::String(crate::base::secret::REDACTED.into()))
                    } else {
                        (k, redact_value(v, secrets))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| redact_value(v, secrets))
                .collect(),
        ),
        Value::String(s) => Value::String(redact_text(&s, secrets)),
        other => other,
    }
}

/// A query string with every credential parameter's value replaced, for the log.
pub(crate) fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_key(key) => {
                format!("{key}={}", crate::base::secret::REDACTED)
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of one query parameter, percent-decoded.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(v))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Now, as RFC 3339 UTC with milliseconds, for history entries.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now, in Unix seconds.
pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::secret::Secret;

    #[test]
    fn rid_has_the_platform_shape() {
        let rid = rid();
        let parts: Vec<&str> = rid.split('-').collect();
        assert_eq!(parts.len(), 3);
        assert!(
            parts
                .iter()
                .all(|p| p.len() == 8 && p.chars().all(|c| c.is_ascii_hexdigit()))
        );
    }

    #[test]
    fn error_appends_a_rid() {
        let reply = Reply::error(40_001, "invalid credential");
        let msg = reply.verdict.errmsg.clone().unwrap_or_default();
        assert!(msg.starts_with("invalid credential rid: "), "{msg}");
    }

    #[test]
    fn fields_check_types_like_the_platform() {
        let Ok(fields) = Fields::parse(br#"{"a":"x","n":102,"s":"102","f":1.5,"e":"","o":{}}"#)
        else {
            panic!("not parsed")
        };
        assert_eq!(fields.string("a"), Ok("x"));
        assert!(fields.string("missing").is_err());
        assert!(fields.string("e").is_err());
        assert!(fields.string("n").is_err());
        assert_eq!(fields.integer("n"), Ok(102));
        assert!(fields.integer("s").is_err());
        assert!(fields.integer("f").is_err());
        assert!(fields.object("o").is_ok());
        assert_eq!(fields.undocumented(&["a", "n"]), ["e", "f", "o", "s"]);
        assert!(Fields::parse(b"[1]").is_err());
        assert!(Fields::parse(b"not json").is_err());
    }

    #[test]
    fn bodies_lose_credentials_but_keep_the_sign() {
        let secret = Secret::new("1c6f40492d6d89caaad80b85f7d31670");
        let body = br#"{"delivery_sign":"abc","appSecret":"1c6f40492d6d89caaad80b85f7d31670","note":"key 1c6f40492d6d89caaad80b85f7d31670","access_token":"T"}"#;
        let kept = redact_body(body, &[&secret], true, 4096).to_string();
        assert!(!kept.contains("1c6f40492d6d89caaad80b85f7d31670"), "{kept}");
        assert!(!kept.contains("\"T\""), "{kept}");
        assert!(kept.contains("\"delivery_sign\":\"abc\""), "{kept}");
        // Unless asked, the signature is not kept either.
        let kept = redact_body(body, &[&secret], false, 4096).to_string();
        assert!(kept.contains("\"delivery_sign\":\"***\""), "{kept}");
    }

    #[test]
    fn long_bodies_are_kept_as_redacted_excerpts() {
        let secret = Secret::new("1c6f40492d6d89caaad80b85f7d31670");
        let filler = "x".repeat(2_000_000);
        let body = format!(
            r#"{{"note":"{filler}","appsecret":"s","k":"1c6f40492d6d89caaad80b85f7d31670"}}"#
        );
        let kept = redact_body(body.as_bytes(), &[&secret], false, 1024);
        assert_eq!(kept["bytes"], body.len());
        assert!(
            kept["excerpt"].as_str().is_some_and(|e| e.len() <= 1024),
            "{kept}"
        );
        // Not JSON, with a secret across the cut: redacted before cutting.
        let body = format!(
            "{}1c6f40492d6d89caaad80b85f7d31670{filler}",
            "y".repeat(1010)
        );
        let kept = redact_body(body.as_bytes(), &[&secret], false, 1024).to_string();
        assert!(!kept.contains("1c6f40492d"), "{}", &kept[..1100]);
        assert!(kept.len() < 1200);
    }

    #[test]
    fn queries_lose_tokens_and_secrets() {
        assert_eq!(redact_query("access_token=abc&x=1"), "access_token=***&x=1");
        assert_eq!(
            redact_query("grant_type=client_credential&appid=wx&secret=s3"),
            "grant_type=client_credential&appid=wx&secret=***"
        );
        assert_eq!(
            query_param(Some("a=1&secret=a%2Bb+c"), "secret").as_deref(),
            Some("a+b c")
        );
        assert_eq!(query_param(Some("a"), "a").as_deref(), Some(""));
        assert_eq!(query_param(None, "a"), None);
        assert_eq!(query_param(Some("x=%4"), "x").as_deref(), Some("%4"));
    }
}
