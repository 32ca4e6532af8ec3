//! The base layer: files, YAML, durations, diagnostics, secrets and exit codes. It imports
//! nothing above it.

pub mod diag;
pub mod duration;
pub mod env;
pub mod exit;
pub mod fields;
pub mod files;
pub mod secret;
pub mod yaml;
