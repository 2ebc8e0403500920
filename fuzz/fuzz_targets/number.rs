//! `cargo fuzz run number --features libfuzzer`: see [`ansinh_fuzz::number`] for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ansinh_fuzz::number(data));
