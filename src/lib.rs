//! `simulate`: plays a delivery order through its life on WeChat's immediate-delivery platform.
//!
//! Data flows one way: files → validated plan → timed execution → report. The layers point down
//! only: base ← model ← wechat ← {scenario, run, emulator} ← {report, describe} ← app.
//!
//! Only what the binary and the integration tests use is public: the command line (`app`), the
//! emulator, and the model and protocol pieces the tests check it with. Everything else is
//! crate-private, so the compiler finds dead code.

// Every write to stdout and stderr goes through base::console, which survives a closed pipe;
// the print macros panic on one.
#![deny(clippy::print_stdout, clippy::print_stderr)]

// The message catalogues, one per language (see base::i18n).
rust_i18n::i18n!("locales", fallback = "en");

pub mod app;
pub mod base;
mod describe;
pub mod emulator;
pub mod model;
mod report;
mod run;
mod scenario;
pub mod wechat;

/// Entry points for the fuzz targets in `fuzz/` (cargo-fuzz), and nothing else: each takes
/// raw input and must return without panicking whatever it is given.
#[doc(hidden)]
pub mod fuzzing {
    /// Checks `text` as a scenario file (built-in carriers, a fixed run context).
    pub fn scenario(text: &str) {
        crate::scenario::fuzz_check(text);
    }

    /// Loads `text` as a `--carriers` file over the built-in table.
    pub fn carriers(text: &str) {
        crate::model::carriers::Carriers::fuzz_check(text);
    }

    /// Hands `body` to the emulator's business API number `api` (modulo their count), with a
    /// valid token or none, and reads `query` as the emulator reads a query string.
    pub fn emulator_call(api: u8, valid_token: bool, query: &str, body: &[u8]) {
        crate::emulator::fuzz_call(api, valid_token, query, body);
    }
}
