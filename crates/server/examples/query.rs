//! A sample client: asks a running ansinh-server the questions of the Lâm Đồng report of May
//! 2025 and prints the answers. `deploy/demo.sh` runs it after loading the sample data.
//!
//!     cargo run --example query -- http://127.0.0.1:50051
//!
//! `--help` shows the usage; a server that cannot be reached exits 1, a bad argument 2.

use ansinh_proto::pb::{
    self, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};
use clap::Parser;

/// Asks a running ansinh-server the questions of the Lâm Đồng report of May 2025 (the region
/// before and after the 2025 merger, HI coverage against its target, HI participants over
/// time) and prints the answers. `deploy/demo.sh` starts a server with the sample loaded.
#[derive(Parser)]
#[command(name = "query", version)]
struct Args {
    /// The server: http://HOST:PORT, or HOST:PORT for plaintext HTTP/2.
    #[arg(default_value = "http://127.0.0.1:50051")]
    endpoint: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let endpoint = if args.endpoint.contains("://") {
        args.endpoint
    } else {
        format!("http://{}", args.endpoint)
    };
    let target = match tonic::transport::Endpoint::from_shared(endpoint.clone()) {
        Ok(target) => target,
        Err(e) => {
            eprintln!("query: {endpoint:?} is not an endpoint ({e}); give http://HOST:PORT");
            std::process::exit(2);
        }
    };
    let channel = match target.connect().await {
        Ok(channel) => channel,
        Err(e) => {
            // tonic's transport error says little by itself; its causes say what failed
            // (each layer may repeat the one below it).
            let mut reasons = vec![e.to_string()];
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                let text = c.to_string();
                if reasons.last() != Some(&text) {
                    reasons.push(text);
                }
                cause = c.source();
            }
            let reason = reasons.join(": ");
            eprintln!(
                "query: cannot connect to {endpoint} ({reason}); is ansinh-server running there? \
                 deploy/demo.sh starts one"
            );
            std::process::exit(1);
        }
    };
    let mut regions = RegionServiceClient::new(channel.clone());
    let mut statistics = StatisticsServiceClient::new(channel);

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
