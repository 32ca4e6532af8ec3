//! The WeChat immediate-delivery protocol: its APIs, error codes, bodies and signing, shared by
//! the client, the emulator, the plan renderer and the reports.

pub mod api;
pub mod body;
pub mod errcode;
pub mod push;
pub mod sign;
