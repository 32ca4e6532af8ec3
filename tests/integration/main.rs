//! Integration tests: the real binary against the real emulator, over loopback.

mod carriers;
mod commands;
mod common;
mod credentials;
mod emulator;
mod html;
mod layers;
mod nightly;
mod push;
mod run;
mod sdk;
mod serve_child;
mod state;
