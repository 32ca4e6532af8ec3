//! The carriers' public test accounts and the business API prefix, as the emulator tests
//! call them (literal on purpose: the tests check the tool against the documented values).

use std::time::{SystemTime, UNIX_EPOCH};

pub const BIZ: &str = "/cgi-bin/express/local/business";
pub const DADA: &str = "dadaaee18818d97e236";
pub const DADA_SECRET: &str = "1c6f40492d6d89caaad80b85f7d31670";
pub const SF: &str = "1534713176";
pub const SF_SECRET: &str = "d80400f91e156f63b38886e616d84590";

/// Unix seconds now, as `action_time` takes them.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
