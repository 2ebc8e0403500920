//! The `ansinh.v1` services: one struct per service, each an `impl` of the generated trait that
//! reads the request, asks the store, and converts the answer. Domain rules stay in the model.

mod encoded;
mod imports;
mod indicators;
mod regions;
mod statistics;

use ansinh_proto::pb::{
    import_service_server::ImportServiceServer, indicator_service_server::IndicatorServiceServer,
    region_service_server::RegionServiceServer, statistics_service_server::StatisticsServiceServer,
};
use tonic::{server::NamedService, service::Routes};

use crate::{cache::Cache, db::Db, request::page_token};
use encoded::StatisticsRoutes;

pub(crate) use imports::Imports;
pub(crate) use indicators::Indicators;
pub(crate) use regions::Regions;
pub(crate) use statistics::Statistics;

/// The largest messages a service reads and writes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageLimits {
    pub(crate) request: usize,
    pub(crate) response: usize,
}

/// Applies [`MessageLimits`] to a generated tonic server (or to [`StatisticsRoutes`], which
/// has the same methods): the limits are inherent methods of each generated type rather than a
/// trait, and every server the router holds (health and reflection too) needs them.
macro_rules! limited {
    ($server:expr, $limits:expr) => {
        $server
            .max_decoding_message_size($limits.request)
            .max_encoding_message_size($limits.response)
    };
}
pub(crate) use limited;

/// Every ansinh.v1 service, ready to be added to a tonic server, each refusing messages larger
/// than `limits` allows and signing its page tokens with a key derived from `page_tokens`.
pub(crate) fn routes(
    db: Db,
    cache: Cache,
    limits: MessageLimits,
    page_tokens: &page_token::Key,
) -> Routes {
    Routes::new(limited!(
        RegionServiceServer::new(Regions::new(
            db.clone(),
            cache.clone(),
            page_tokens.tokens("ListRegions")
        )),
        limits
    ))
    .add_service(limited!(
        IndicatorServiceServer::new(Indicators::new(
            db.clone(),
            page_tokens.tokens("ListIndicators")
        )),
        limits
    ))
    .add_service(limited!(
        StatisticsRoutes::new(Statistics::new(
            db.clone(),
            cache,
            page_tokens.tokens("ListObservations")
        )),
        limits
    ))
    .add_service(limited!(
        ImportServiceServer::new(Imports::new(db, page_tokens.tokens("ListImportRuns"))),
        limits
    ))
}

/// The fully-qualified names of the services [`routes`] serves, for health reporting.
pub(crate) const NAMES: &[&str] = &[
    <RegionServiceServer<Regions> as NamedService>::NAME,
    <IndicatorServiceServer<Indicators> as NamedService>::NAME,
    <StatisticsServiceServer<Statistics> as NamedService>::NAME,
    <ImportServiceServer<Imports> as NamedService>::NAME,
];
