//! Calls cut off by tiny deadlines never touch other calls (issue 17): beside four clients whose
//! calls are cancelled at random moments, every call of a patient client is answered, and
//! every answer anybody gets is the right one; nothing is UNAVAILABLE or INTERNAL while MySQL
//! is up, before and after MySQL restarts. Bounded: a few seconds of calls on loopback.

use std::time::Duration;

use ansinh_tests::{PrivateStack, ScratchDir, ServerProcess, TestDatabase, import, soak};

/// Long enough for thousands of cancelled calls on a slow machine, short for the suite.
const SOAK: Duration = Duration::from_secs(4);

fn load_commune_figures(database_url: &str) {
    let scratch = ScratchDir::new("cancellation");
    let file = scratch.write("communes.csv", &soak::commune_figures_csv());
    let output = import(database_url, &["load", &file]);
    assert!(
        output.status.success(),
        "loading the commune figures failed: {}",
        ansinh_tests::describe(&output)
    );
}

fn assert_sound(report: &soak::Report) {
    eprintln!("{report}");
    assert_eq!(report.cancelled.faults(), 0, "{report}");
    assert_eq!(report.patient.faults(), 0, "{report}");
    assert!(
        report.patient.right >= 10,
        "the patient client was answered too seldom to tell: {report}"
    );
    assert!(
        report.cancelled.cut_off >= 50,
        "too few calls were cut off to tell: {report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_cancelled_by_tiny_deadlines_leave_every_other_answer_right() {
    let database = TestDatabase::new().await;
    ansinh_tests::migrate_and_load_sample(database.url());
    load_commune_figures(database.url());
    // A small pool, so every connection a cancelled call touched is soon another call's.
    let server = ServerProcess::start(database.url(), &[("ANSINH_DB_POOL_SIZE", "4")]);
    let reference = soak::reference_answers(&server.endpoint()).await;
    let report = soak::run(&server.endpoint(), &reference, 4, SOAK).await;
    assert_sound(&report);
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_stay_sound_after_mysql_restarts_under_them() {
    let mut stack = PrivateStack::start(&[
        ("ANSINH_DB_POOL_SIZE", "4"),
        ("ANSINH_DB_TIMEOUT", "1s"),
        ("ANSINH_HEALTH_INTERVAL", "200ms"),
    ])
    .await;
    load_commune_figures(stack.database.url());
    let endpoint = stack.server.endpoint();
    let reference = soak::reference_answers(&endpoint).await;
    assert_sound(&soak::run(&endpoint, &reference, 4, SOAK / 2).await);

    stack.stop_mariadb().await;
    stack.start_mariadb().await;
    // Until the pool has replaced the connections MySQL dropped, calls may fail; the server
    // must recover on its own, and then be as sound as before.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while soak::ask(
        &stack.channel().await,
        soak::Question::CommunePage,
        Duration::from_secs(5),
    )
    .await
    .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not answer within 30 s of MySQL's restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every connection opened before the restart answered a check more than CHECK_AFTER ago.
    tokio::time::sleep(ansinh_store::CHECK_AFTER).await;
    assert_sound(&soak::run(&endpoint, &reference, 4, SOAK / 2).await);
}
