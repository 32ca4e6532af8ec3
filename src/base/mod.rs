//! The base layer: console output, files, YAML, durations, a run's pace, diagnostics, secrets, wording and exit
//! codes. It imports nothing above it.

pub mod console;
pub mod diag;
pub mod duration;
pub mod env;
pub mod exit;
pub mod fields;
pub mod files;
pub mod i18n;
pub mod keys;
pub mod pace;
pub mod secret;
pub mod text;
pub mod yaml;
