//! `cargo fuzz run period --features libfuzzer`: see [`ansinh_fuzz::period`] for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ansinh_fuzz::period(data));
