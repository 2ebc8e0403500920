//! `cargo fuzz run rows --features libfuzzer`: see [`ansinh_fuzz::rows`] for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ansinh_fuzz::rows(data));
