//! Integration tests: the real binary against the real emulator, over loopback.

mod carriers;
mod commands;
mod common;
mod credentials;
mod emulator;
mod html;
mod layers;
mod merchant;
mod nightly;
mod run;
