//! Integration tests: the real binary against the real emulator, over loopback.

mod commands;
mod common;
mod emulator;
mod nightly;
mod run;
