//! GetObservationHistory (issue 12, item 2): after the sample's run, a later run revises Lâm
//! Đồng's 2024 HI participants; the history lists both versions, newest first, with the runs
//! that set and replaced them. The real importer writes, the real server answers.

use ansinh_proto::pb::{self, statistics_service_client::StatisticsServiceClient};
use ansinh_tests::{ScratchDir, ServerProcess, describe, import, sample_database};
use tonic::Code;

fn request(period: &str) -> pb::GetObservationHistoryRequest {
    pb::GetObservationHistoryRequest {
        region_code: "68".into(),
        indicator_code: "hi_participants".into(),
        period: period.into(),
    }
}

#[tokio::test]
async fn a_revised_figure_lists_every_version_with_its_runs() {
    let database = sample_database().await;
    let scratch = ScratchDir::new("observation-history");
    let revision = scratch.write(
        "revision.csv",
        "region,indicator,period,value,unit,qualifier,source\n\
         68,hi_participants,2024-12-31,1269190,persons,,revised report 2025-06\n",
    );
    let output = import(database.url(), &["load", &revision]);
    assert!(output.status.success(), "{}", describe(&output));

    let server = ServerProcess::start(database.url(), &[]);
    let mut statistics = StatisticsServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    // A stock for 2024 is its level on 2024-12-31.
    let history = statistics
        .get_observation_history(request("2024"))
        .await
        .unwrap()
        .into_inner();
    let versions: Vec<(&str, &str, bool)> = history
        .versions
        .iter()
        .map(|v| {
            (
                v.value.as_str(),
                v.source.as_str(),
                v.replaced_by_run_id.is_empty(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("1269190", "revised report 2025-06", true),
            ("1269187", "baolamdong.vn 2025-05", false),
        ]
    );
    let (now, before) = (&history.versions[0], &history.versions[1]);
    assert_eq!(before.replaced_by_run_id, now.set_by_run_id);
    assert!(
        before.set_by_run_id.parse::<u64>().unwrap() < now.set_by_run_id.parse::<u64>().unwrap()
    );
    assert!(!now.set_at.is_empty() && !before.replaced_at.is_empty());
    assert_eq!(now.unit, pb::Unit::Persons as i32);
    assert_eq!(history.region.unwrap().valid_to, "2025-06-30");

    let status = statistics
        .get_observation_history(request("2019"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let status = statistics
        .get_observation_history(request("2024-13"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
