//! The scenario loader: any text, every check, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        simulate::fuzzing::scenario(text);
    }
});
