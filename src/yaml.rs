//! All YAML reading goes through here, so the parser (serde-saphyr) is named in one file.
//!
//! serde-saphyr refuses duplicate keys, enforces budgets against alias bombs and keeps
//! locations (`Spanned<T>`) for the checks made after parsing.

use serde::de::DeserializeOwned;

use crate::diag::Diagnostic;

pub use serde_saphyr::Spanned;

/// Parses `text` (the contents of `file`) into `T`, or says where and why it could not.
pub fn from_str<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str::<T>(text).map_err(|error| {
        let (line, column) = error
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let message = error.without_snippet().to_string();
        // The crate's message repeats the position we already print in front.
        let message = strip_position_prefix(&message);
        Diagnostic::new(file, line, column, message)
    })
}

/// Line and column of a located value.
pub fn position<T>(value: &Spanned<T>) -> (u64, u64) {
    (value.referenced.line(), value.referenced.column())
}

fn strip_position_prefix(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let trimmed = first.trim_start_matches("error: ");
    match trimmed.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") && head.contains(" column ") => {
            rest.to_owned()
        }
        _ => trimmed.to_owned(),
    }
}
