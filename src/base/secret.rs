//! Secrets (carrier appsecret, WeChat app secret, access token) in a type that will not print them.

use std::fmt;

/// A value that must never reach a log, a report or an error message.
///
/// `Debug` and `Display` print `***`; the only way to the text is [`Secret::expose`], which
/// call sites use where the value goes on the wire or into a hash.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

/// What a secret looks like wherever it would have been printed.
pub const REDACTED: &str = "***";

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// Replaces every occurrence of each non-empty secret in `text` with [`REDACTED`].
///
/// A last line of defence for text that came from outside (an answer body, an error chain
/// that may quote a URL); our own messages never format a secret in the first place.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        // Very short values would blank out ordinary text; no real secret is that short.
        if secret.0.len() >= 4 {
            out = out.replace(&secret.0, REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("d80400f91e156f63b38886e616d84590");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(s.expose(), "d80400f91e156f63b38886e616d84590");
    }

    #[test]
    fn redact_replaces_every_occurrence() {
        let token = Secret::new("TOKEN123");
        let out = redact("url?access_token=TOKEN123 and TOKEN123", &[&token]);
        assert_eq!(out, "url?access_token=*** and ***");
    }
}
