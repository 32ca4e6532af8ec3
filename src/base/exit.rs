//! The documented exit codes (README, `--help`).

/// Every step met its expectation.
pub const OK: u8 = 0;
/// A step failed: an answer it did not expect, an HTTP error, an unreadable answer, a timeout;
/// or a step was sent later than `--max-lateness`.
pub const STEP_FAILED: u8 = 1;
/// Invalid input or usage; nothing was sent.
pub const INVALID: u8 = 2;
/// Could not run: endpoint unreachable, no or rejected credentials; or a report not written.
pub const COULD_NOT_RUN: u8 = 3;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: u8 = 130;

/// The text `--help` and the README show.
pub const HELP: &str = "Exit codes:
  0    every step met its expectation
  1    a step failed (unexpected answer, HTTP error, unreadable answer, timeout), or was sent later than --max-lateness
  2    invalid input or usage; nothing was sent
  3    could not run (endpoint unreachable, no or rejected credentials), or a report could not be written
  130  interrupted (Ctrl-C or SIGTERM)";
