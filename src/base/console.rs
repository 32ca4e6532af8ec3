//! Writing to stdout and stderr without ever failing: a closed pipe (`… | head`, a CI step
//! that stopped reading) means nobody reads any more, which is no reason to panic or to stop
//! working. The run goes on and still writes its reports.

use std::io::Write;

/// Writes `text` to stdout; a write error is ignored.
pub fn out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes `text` to stderr; a write error is ignored.
pub fn err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
