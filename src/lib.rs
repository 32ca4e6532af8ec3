//! `simulate`: plays a delivery order through its life on WeChat's immediate-delivery platform.
//!
//! Data flows one way: files → validated plan → timed execution → report.

pub mod app;
pub mod carriers;
pub mod cli;
pub mod client;
pub mod describe;
pub mod diag;
pub mod duration;
pub mod emulator;
pub mod exit;
pub mod new;
pub mod plan;
pub mod report;
pub mod retry;
pub mod runner;
pub mod scenario;
pub mod secret;
pub mod sign;
pub mod statuses;
pub mod timeline;
pub mod token;
pub mod yaml;
