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

/// Stderr as a writer that never fails, for the log (`-v`): tracing's own writer reports a
/// failed write with `eprint!`, which panics on a closed pipe.
pub struct ErrWriter;

impl Write for ErrWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().lock().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// A new [`ErrWriter`]; what the log is given to make its writers.
pub fn err_writer() -> ErrWriter {
    ErrWriter
}
