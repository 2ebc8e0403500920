//! The `ansinh.v1` services: one struct per service, each an `impl` of the generated trait that
//! reads the request, asks the store, and converts the answer. Domain rules stay in the model.

mod imports;
mod indicators;
mod regions;
mod statistics;

use ansinh_proto::pb::{
    import_service_server::ImportServiceServer, indicator_service_server::IndicatorServiceServer,
    region_service_server::RegionServiceServer, statistics_service_server::StatisticsServiceServer,
};
use tonic::{server::NamedService, service::Routes};

use crate::db::Db;

pub(crate) use imports::Imports;
pub(crate) use indicators::Indicators;
pub(crate) use regions::Regions;
pub(crate) use statistics::Statistics;

/// Every ansinh.v1 service, ready to be added to a tonic server.
pub(crate) fn routes(db: Db) -> Routes {
    Routes::new(RegionServiceServer::new(Regions::new(db.clone())))
        .add_service(IndicatorServiceServer::new(Indicators::new(db.clone())))
        .add_service(StatisticsServiceServer::new(Statistics::new(db.clone())))
        .add_service(ImportServiceServer::new(Imports::new(db)))
}

/// The fully-qualified names of the services [`routes`] serves, for health reporting.
pub(crate) const NAMES: &[&str] = &[
    <RegionServiceServer<Regions> as NamedService>::NAME,
    <IndicatorServiceServer<Indicators> as NamedService>::NAME,
    <StatisticsServiceServer<Statistics> as NamedService>::NAME,
    <ImportServiceServer<Imports> as NamedService>::NAME,
];
