//! A sample client: asks a running ansinh-server the questions of the Lâm Đồng report of May
//! 2025 and prints the answers. `deploy/demo.sh` runs it after loading the sample data.
//!
//!     cargo run -p ansinh-server --example query -- http://127.0.0.1:50051

use ansinh_proto::pb::{
    self, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:50051".into());
    let mut regions = RegionServiceClient::connect(endpoint.clone()).await?;
    let mut statistics = StatisticsServiceClient::connect(endpoint).await?;

    for as_of in ["2024-06-01", "2025-08-01"] {
        let region = regions
            .get_region(pb::GetRegionRequest {
                code: "68".into(),
                as_of: as_of.into(),
            })
            .await?
            .into_inner();
        println!(
            "Region 68 as of {as_of}: {} ({}), valid {}..{}",
            region.name, region.name_vi, region.valid_from, region.valid_to
        );
    }

    let attainment = statistics
        .get_target_attainment(pb::GetTargetAttainmentRequest {
            region_codes: vec!["68".into()],
            indicator_code: "hi_coverage_rate".into(),
            period: "2024".into(),
        })
        .await?
        .into_inner();
    for entry in &attainment.attainments {
        println!(
            "HI coverage 2024 in {}: {}% against a target of {}% -> {:?}, {} percentage points",
            entry.region.as_ref().map_or("?", |r| r.name.as_str()),
            entry.actual,
            entry.target,
            pb::AttainmentStatus::try_from(entry.status).unwrap_or_default(),
            entry.difference
        );
    }

    let series = statistics
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            start_date: "2024-01-01".into(),
            end_date: "2025-06-30".into(),
            geography_as_of: String::new(),
        })
        .await?
        .into_inner();
    for point in &series.points {
        let change = point
            .change_from_previous
            .as_ref()
            .map(|c| {
                format!(
                    " ({} since {})",
                    c.absolute,
                    c.reference_period.as_ref().map_or("", |p| p.text.as_str())
                )
            })
            .unwrap_or_default();
        let period = point.period.as_ref().map_or("", |p| p.text.as_str());
        println!("HI participants {period}: {}{change}", point.value);
    }
    Ok(())
}
