//! Replays the committed corpus (`fuzz/corpus/TARGET/*`, grown by `cargo fuzz` and minimized)
//! and the crashes found and fixed (`fuzz/regressions/TARGET/*`) through the fuzz targets'
//! properties, so that every `cargo test` checks them on stable Rust without libFuzzer.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        files.extend(entries.map(|entry| entry.expect("a directory entry").path()));
    }
    files.sort();
    files
}

fn replay(target: &str, property: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= 10,
        "fuzz/corpus/{target} holds {} inputs; the committed corpus is missing",
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).expect("reading a corpus file");
        if let Err(panic) = std::panic::catch_unwind(|| property(&data)) {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            panic!("{}: {why}", file.display());
        }
    }
}

#[test]
fn period_corpus_holds() {
    replay("period", ansinh_fuzz::period);
}

#[test]
fn number_corpus_holds() {
    replay("number", ansinh_fuzz::number);
}

#[test]
fn rows_corpus_holds() {
    replay("rows", ansinh_fuzz::rows);
}
