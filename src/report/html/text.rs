//! Small pieces of text and markup shared by the parts of the page: escaping, times and
//! durations, languages, and a few tags.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::base::duration::{format_duration, round_to_ms};
use crate::model::statuses::Lang;

/// Escapes text for HTML element content and for quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

/// A coloured label; `text` is HTML.
pub(super) fn pill(class: &str, text: &str) -> String {
    format!("<span class=\"pill {class}\">{text}</span>")
}

/// A definition list of (key, value-HTML) pairs.
pub(super) fn definitions(class: &str, pairs: &[(impl AsRef<str>, String)]) -> String {
    let mut out = format!("<dl class=\"{class}\">");
    for (key, value) in pairs {
        let key = key.as_ref();
        out.push_str(&format!("<dt>{key}</dt><dd>{value}</dd>"));
    }
    out.push_str("</dl>");
    out
}

/// The language shown beside the chosen one.
pub(super) fn other_lang(lang: Lang) -> Lang {
    match lang {
        Lang::En => Lang::Zh,
        Lang::Zh => Lang::En,
    }
}

pub(super) fn lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    }
}

/// A duration to the millisecond, as scenarios write them (`4m`, `1m30s`, `12ms`).
pub(super) fn duration(d: Duration) -> String {
    format_duration(round_to_ms(d))
}

/// Like [`duration`], but a time under a millisecond reads `<1ms`, not `0s`.
pub(super) fn short(d: Duration) -> String {
    if d < Duration::from_millis(1) && !d.is_zero() {
        "<1ms".to_owned()
    } else {
        duration(d)
    }
}

/// The [`duration`] from `from` to `to`; zero when `to` is earlier.
pub(super) fn elapsed(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    duration(since(from, to))
}

pub(super) fn offset_ms(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    since(from, to).as_secs_f64() * 1000.0
}

fn since(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or(Duration::ZERO)
}

pub(super) fn stamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
}

pub(super) fn stamp_minutes(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(super) fn clock(time: DateTime<Utc>) -> String {
    time.format("%H:%M:%S%.3f").to_string()
}

/// The endpoint as it may be shown: without any user-info or query string, which could carry a
/// credential.
pub(super) fn public_endpoint(endpoint: &str) -> String {
    let (base, query) = match endpoint.split_once('?') {
        Some((base, _)) => (base, "?…"),
        None => (endpoint, ""),
    };
    let shown = match base.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    format!("{shown}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(
            escape(r#"a "b" & c's <d>"#),
            "a &quot;b&quot; &amp; c&#39;s &lt;d&gt;"
        );
        assert_eq!(escape("骑手已接单 / ok"), "骑手已接单 / ok");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn endpoints_lose_credentials() {
        assert_eq!(
            public_endpoint("https://api.weixin.qq.com"),
            "https://api.weixin.qq.com"
        );
        assert_eq!(
            public_endpoint("http://u:p@host:1/x?access_token=t"),
            "http://***@host:1/x?…"
        );
    }
}
