//! Integration tests: the real binary against the real emulator, over loopback.

mod common;
mod emulator;
mod nightly;
mod run;
