//! `cancel-soak [SECONDS [CLIENTS]]`: the cancellation soak as a command, for as long as asked
//! (default 20 s, 4 clients with tiny deadlines beside one patient client). It makes a database
//! of its own on the test server (`TEST_DATABASE_URL`, else 127.0.0.1:3306, else a throwaway
//! MariaDB), loads the sample and a province's commune figures, starts the real
//! `ansinh-server` on loopback, prints what every call got, and exits 1 if any call was
//! answered wrongly or failed with anything but its deadline. Build the binaries first
//! (`cargo build --workspace --bins`); docs/operations.md has figures.

use std::time::Duration;

use ansinh_tests::{ScratchDir, ServerProcess, TestDatabase, import, soak};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let number = |arg: Option<String>, default: u64, what: &str| {
        arg.map_or(Ok(default), |text| {
            text.parse::<u64>()
                .map_err(|_| format!("cancel-soak: {what} must be a whole number, not {text:?}"))
        })
    };
    let (seconds, clients) = match (
        number(args.next(), 20, "SECONDS"),
        number(args.next(), 4, "CLIENTS"),
    ) {
        (Ok(seconds), Ok(clients)) => (seconds, clients),
        (Err(message), _) | (_, Err(message)) => {
            eprintln!("{message}\nusage: cancel-soak [SECONDS [CLIENTS]]");
            return std::process::ExitCode::from(2);
        }
    };

    let database = TestDatabase::new().await;
    ansinh_tests::migrate_and_load_sample(database.url());
    let scratch = ScratchDir::new("cancel-soak");
    let file = scratch.write("communes.csv", &soak::commune_figures_csv());
    let output = import(database.url(), &["load", &file]);
    assert!(
        output.status.success(),
        "{}",
        ansinh_tests::describe(&output)
    );
    let server = ServerProcess::start(database.url(), &[]);
    let reference = soak::reference_answers(&server.endpoint()).await;
    println!(
        "cancel-soak: {clients} clients with deadlines of 1-{} ms beside one with 10 s, for {seconds} s",
        soak::TINY_DEADLINE.as_millis()
    );
    let report = soak::run(
        &server.endpoint(),
        &reference,
        clients,
        Duration::from_secs(seconds),
    )
    .await;
    println!("{report}");
    if report.cancelled.faults() + report.patient.faults() == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
