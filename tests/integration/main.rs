//! Integration tests: the real binary against the real emulator, over loopback.

mod accounts;
mod carriers;
mod chinese;
mod commands;
mod common;
mod credentials;
mod emulator;
mod fault_matrix;
mod history;
mod hostile;
mod html;
mod layers;
mod merchant;
mod merchant_flow;
mod nightly;
mod push;
mod release;
mod reliability;
mod run;
mod scale;
mod sdk;
mod serve_child;
mod state;
mod terminal;
mod wording;
mod zh_only;
