//! `simulate`: plays a delivery order through its life on WeChat's immediate-delivery platform.
//!
//! Data flows one way: files → validated plan → timed execution → report. The layers point down
//! only: base ← model ← wechat ← {scenario, run, emulator} ← {report, describe} ← app.
//!
//! Only what the binary and the integration tests use is public: the command line (`app`), the
//! emulator, and the model and protocol pieces the tests check it with. Everything else is
//! crate-private, so the compiler finds dead code.

pub mod app;
pub mod base;
mod describe;
pub mod emulator;
pub mod model;
mod report;
mod run;
mod scenario;
pub mod wechat;
