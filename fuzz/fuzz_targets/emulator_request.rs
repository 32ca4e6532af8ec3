//! The emulator's request handling: an API, a query string and a body, as a client sends
//! them. The first byte picks the API, the second whether the token is valid; the query runs
//! to the first newline, the body is the rest.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [api, token, rest @ ..] = data else {
        return;
    };
    let (query, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (&rest[..0], rest),
    };
    let query = String::from_utf8_lossy(query);
    simulate::fuzzing::emulator_call(*api, token % 2 == 0, &query, body);
});
