//! `simulate`: plays a delivery order through its life on WeChat's immediate-delivery platform.
//!
//! Data flows one way: files → validated plan → timed execution → report. The layers point down
//! only: base ← model ← wechat ← {scenario, run, emulator} ← {report, describe} ← app.

// The message catalogues, one per language (see base::i18n).
rust_i18n::i18n!("locales", fallback = "en");

pub mod app;
pub mod base;
pub mod describe;
pub mod emulator;
pub mod model;
pub mod report;
pub mod run;
pub mod scenario;
pub mod wechat;
