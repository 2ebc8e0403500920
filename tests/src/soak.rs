//! The cancellation soak: clients whose calls are cut off by tiny deadlines, beside a client
//! whose calls have time to spare, all asking questions whose answers are known exactly. It
//! reproduces the fault probe of 2026-12-02 (issue 17): a call dropped at its deadline used
//! to leave its MySQL connection mid-answer, so later calls, on any client, failed with
//! UNAVAILABLE or read another query's rows. A sound server answers every call either in full
//! and correctly, or DEADLINE_EXCEEDED / CANCELLED; nothing else.
//!
//! Used by `tests/cancellation.rs` (a few seconds) and by the `cancel-soak` command (as long
//! as asked, figures printed; docs/operations.md).

use std::time::{Duration, Instant};

use ansinh_proto::pb::{
    self, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};
use ansinh_test_db::Xorshift;
use tonic::{Code, transport::Channel};

/// The questions asked, each read from the database unless the server has it cached: a page
/// of a thousand commune figures, the sample's figures of one province, a series, a target's
/// attainment, a ranking and a sum over a province's communes, and a page of regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// ListObservations of province 02 with its descendants, a page of 1,000.
    CommunePage,
    /// ListObservations of Lâm Đồng (68): the seed figures.
    ProvinceFigures,
    /// GetTimeSeries of Lâm Đồng's HI coverage.
    Series,
    /// GetTargetAttainment of the seed question.
    Attainment,
    /// RankRegions of province 02's communes in January 2024.
    Ranking,
    /// Aggregate of province 02's communes in January 2024.
    Sum,
    /// ListRegions of the communes of 2024, a page of 500.
    Regions,
}

impl Question {
    /// Every question, in the order the clients take them.
    pub const ALL: [Self; 7] = [
        Self::CommunePage,
        Self::ProvinceFigures,
        Self::Series,
        Self::Attainment,
        Self::Ranking,
        Self::Sum,
        Self::Regions,
    ];
}

/// One answer, comparable with the reference answer of its question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// ListObservations.
    Observations(pb::ListObservationsResponse),
    /// GetTimeSeries.
    Series(pb::GetTimeSeriesResponse),
    /// GetTargetAttainment.
    Attainment(pb::GetTargetAttainmentResponse),
    /// RankRegions.
    Ranking(pb::RankRegionsResponse),
    /// Aggregate.
    Sum(pb::AggregateResponse),
    /// ListRegions.
    Regions(pb::ListRegionsResponse),
}

/// The data the questions are about, in the importer's CSV: one `hi_treatment_visits` figure
/// per month of 2024 for each commune of province 02 (load it beside `examples/sample/`).
pub fn commune_figures_csv() -> String {
    let communes = std::fs::read_to_string(
        crate::workspace_root().join("crates/store/reference/communes_before_2025-07-01.csv"),
    )
    .expect("reading the reference communes");
    let mut text = String::from("region,indicator,period,value\n");
    for line in communes.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields[0] != "02" {
            continue;
        }
        for month in 1..=12 {
            let value = u32::from(fields[2].as_bytes()[4]) * 100 + month;
            text.push_str(&format!(
                "{},hi_treatment_visits,2024-{month:02},{value}\n",
                fields[2]
            ));
        }
    }
    text
}

/// Asks `question` on `channel` with `deadline` (sent as grpc-timeout, and enforced by the
/// client too, which then cancels the stream as a client that stops waiting does).
pub async fn ask(
    channel: &Channel,
    question: Question,
    deadline: Duration,
) -> Result<Answer, tonic::Status> {
    let call = ask_with_grpc_timeout(channel.clone(), question, deadline);
    match tokio::time::timeout(deadline + Duration::from_millis(1), call).await {
        Ok(answer) => answer,
        Err(_) => Err(tonic::Status::cancelled("the client stopped waiting")),
    }
}

async fn ask_with_grpc_timeout(
    channel: Channel,
    question: Question,
    deadline: Duration,
) -> Result<Answer, tonic::Status> {
    fn timed<T>(message: T, deadline: Duration) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(deadline);
        request
    }
    let mut statistics = StatisticsServiceClient::new(channel.clone());
    let commune = pb::RegionLevel::Commune as i32;
    Ok(match question {
        Question::CommunePage | Question::ProvinceFigures => {
            let (region, include_descendants) = if question == Question::CommunePage {
                ("02", true)
            } else {
                ("68", false)
            };
            let request = pb::ListObservationsRequest {
                region_codes: vec![region.into()],
                include_descendants,
                page_size: 1000,
                ..Default::default()
            };
            Answer::Observations(
                statistics
                    .list_observations(timed(request, deadline))
                    .await?
                    .into_inner(),
            )
        }
        Question::Series => Answer::Series(
            statistics
                .get_time_series(timed(
                    pb::GetTimeSeriesRequest {
                        region_code: "68".into(),
                        indicator_code: "hi_coverage_rate".into(),
                        ..Default::default()
                    },
                    deadline,
                ))
                .await?
                .into_inner(),
        ),
        Question::Attainment => Answer::Attainment(
            statistics
                .get_target_attainment(timed(crate::seed_attainment_request(), deadline))
                .await?
                .into_inner(),
        ),
        Question::Ranking => Answer::Ranking(
            statistics
                .rank_regions(timed(
                    pb::RankRegionsRequest {
                        parent_code: "02".into(),
                        level: commune,
                        indicator_code: "hi_treatment_visits".into(),
                        period: "2024-01".into(),
                        limit: 50,
                        ..Default::default()
                    },
                    deadline,
                ))
                .await?
                .into_inner(),
        ),
        Question::Sum => Answer::Sum(
            statistics
                .aggregate(timed(
                    pb::AggregateRequest {
                        parent_code: "02".into(),
                        level: commune,
                        indicator_code: "hi_treatment_visits".into(),
                        period: "2024-01".into(),
                    },
                    deadline,
                ))
                .await?
                .into_inner(),
        ),
        Question::Regions => Answer::Regions(
            RegionServiceClient::new(channel)
                .list_regions(timed(
                    pb::ListRegionsRequest {
                        level: commune,
                        as_of: "2024-06-01".into(),
                        page_size: 500,
                        ..Default::default()
                    },
                    deadline,
                ))
                .await?
                .into_inner(),
        ),
    })
}

/// How one client's calls ended.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Answered, and equal to the reference answer.
    pub right: u64,
    /// Answered, but not with the reference answer: another call's rows, or a wrong figure.
    pub wrong: u64,
    /// DEADLINE_EXCEEDED or CANCELLED: what a call cut off by its deadline should get.
    pub cut_off: u64,
    /// UNAVAILABLE.
    pub unavailable: u64,
    /// INTERNAL.
    pub internal: u64,
    /// Any other status.
    pub other: u64,
    /// The first few statuses and wrong answers, to show with a failure.
    pub examples: Vec<String>,
}

impl Tally {
    fn record(
        &mut self,
        question: Question,
        result: Result<Answer, tonic::Status>,
        reference: &Answer,
    ) {
        let example = match result {
            Ok(answer) if answer == *reference => {
                self.right += 1;
                None
            }
            Ok(answer) => {
                self.wrong += 1;
                Some(format!("{question:?} answered {answer:?}"))
            }
            Err(status) => {
                let counter = match status.code() {
                    Code::DeadlineExceeded | Code::Cancelled => {
                        self.cut_off += 1;
                        return;
                    }
                    Code::Unavailable => &mut self.unavailable,
                    Code::Internal => &mut self.internal,
                    _ => &mut self.other,
                };
                *counter += 1;
                Some(format!(
                    "{question:?}: {:?} {}",
                    status.code(),
                    status.message()
                ))
            }
        };
        if let Some(example) = example
            && self.examples.len() < 5
        {
            self.examples.push(example);
        }
    }

    fn add(&mut self, other: Self) {
        self.right += other.right;
        self.wrong += other.wrong;
        self.cut_off += other.cut_off;
        self.unavailable += other.unavailable;
        self.internal += other.internal;
        self.other += other.other;
        self.examples.extend(other.examples.into_iter().take(5));
    }

    /// Calls that ended in anything but a right answer or a cut-off.
    pub fn faults(&self) -> u64 {
        self.wrong + self.unavailable + self.internal + self.other
    }

    /// All calls.
    pub fn calls(&self) -> u64 {
        self.right + self.cut_off + self.faults()
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} calls: {} right, {} cut off, {} wrong, {} UNAVAILABLE, {} INTERNAL, {} other",
            self.calls(),
            self.right,
            self.cut_off,
            self.wrong,
            self.unavailable,
            self.internal,
            self.other
        )
    }
}

/// What a soak found: the cancelled clients' calls and the patient client's.
#[derive(Debug, Clone)]
pub struct Report {
    /// The clients whose calls have 1–5 ms deadlines, together.
    pub cancelled: Tally,
    /// The client whose calls have 10 s deadlines.
    pub patient: Tally,
    /// How long it ran.
    pub elapsed: Duration,
    /// The seed of the deadlines, to rerun the same sequence.
    pub seed: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "seed {}, {:.1?}", self.seed, self.elapsed)?;
        writeln!(f, "  tiny deadlines: {}", self.cancelled)?;
        write!(f, "  10 s deadlines: {}", self.patient)?;
        for example in self.cancelled.examples.iter().chain(&self.patient.examples) {
            write!(f, "\n  e.g. {example}")?;
        }
        Ok(())
    }
}

/// The longest deadline of a cancelled client's call; each draws one from 1 ms up to this.
pub const TINY_DEADLINE: Duration = Duration::from_millis(5);
const PATIENT_DEADLINE: Duration = Duration::from_secs(10);

/// The answer to every question, asked once with time to spare.
pub async fn reference_answers(endpoint: &str) -> Vec<Answer> {
    let channel = connect(endpoint).await;
    let mut answers = Vec::new();
    for question in Question::ALL {
        answers.push(
            ask(&channel, question, PATIENT_DEADLINE)
                .await
                .unwrap_or_else(|status| panic!("{question:?} is not answered: {status:?}")),
        );
    }
    answers
}

/// Runs `cancelling_clients` clients with tiny deadlines and one patient client against the
/// server at `endpoint`, each on its own HTTP/2 connection, for `duration`, and compares every
/// answer with `reference`.
pub async fn run(
    endpoint: &str,
    reference: &[Answer],
    cancelling_clients: u64,
    duration: Duration,
) -> Report {
    let seed = Xorshift::clock_seed();
    let started = Instant::now();
    let client = |number: u64, patient: bool| {
        let reference = reference.to_vec();
        let endpoint = endpoint.to_owned();
        tokio::spawn(async move {
            let channel = connect(&endpoint).await;
            let mut random = Xorshift::new(seed ^ (number + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut tally = Tally::default();
            let tiny = u64::try_from(TINY_DEADLINE.as_micros()).expect("a few ms");
            while started.elapsed() < duration {
                let index =
                    usize::try_from(random.below(Question::ALL.len() as u64)).expect("an index");
                let deadline = if patient {
                    PATIENT_DEADLINE
                } else {
                    Duration::from_micros(1_000 + random.below(tiny - 1_000))
                };
                let question = Question::ALL[index];
                let result = ask(&channel, question, deadline).await;
                tally.record(question, result, &reference[index]);
            }
            tally
        })
    };
    let cancelling: Vec<_> = (0..cancelling_clients).map(|n| client(n, false)).collect();
    let patient = client(cancelling_clients, true);
    let mut report = Report {
        cancelled: Tally::default(),
        patient: patient.await.expect("the patient client did not panic"),
        elapsed: Duration::ZERO,
        seed,
    };
    for task in cancelling {
        report
            .cancelled
            .add(task.await.expect("a cancelling client did not panic"));
    }
    report.elapsed = started.elapsed();
    report
}

async fn connect(endpoint: &str) -> Channel {
    crate::within(
        Duration::from_secs(10),
        "connecting to ansinh-server",
        Channel::from_shared(endpoint.to_owned())
            .expect("a valid endpoint")
            .connect(),
    )
    .await
    .expect("connecting to ansinh-server")
}
