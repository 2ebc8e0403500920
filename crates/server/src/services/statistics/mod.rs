//! StatisticsService: the figures and what follows from them. Each call reads its request into
//! a query (INVALID_ARGUMENT naming every bad field), resolves codes to region versions and
//! catalog entries, fetches the figures it needs in a few indexed queries, and hands them to
//! the model's rules: `roll_up` and `combine_constituents` for sums and recomputed ratios,
//! `series_changes` for changes, `Attainment::assess` for targets, `rank` for rankings. What is
//! decided here is only which stored figures a question is about:
//!
//! - a figure's period is read through the catalog's timing: stocks and ratios of stocks are
//!   levels at the instant their period ends, so `hi_coverage_rate` for `2024` is the figure
//!   ending 2024-12-31 whichever start it was stored with (`crate::catalog`);
//! - the region version of a question is the one valid on the last day of its period
//!   (`regions`); a code continued through a lineage edge is followed for targets
//!   (`attainment`);
//! - a series without `geography_as_of` is each figure in the boundaries of its own time, and
//!   its changes are computed only between figures of the same region version: across a
//!   boundary change a difference measures the redrawing, not a trend. With `geography_as_of`
//!   every point is in the same boundaries, so changes run over the whole series (`series`).
//!
//! One module per question: `listing` (ListObservations, ExportObservations), `series`,
//! `rollup` (Aggregate), `ranking`, `attainment`, `summary`, `history` (GetObservationHistory).
//! The handlers here only read the request and hand its query to them.

mod attainment;
#[cfg(test)]
mod fixtures;
mod history;
mod listing;
mod ranking;
mod regions;
mod rollup;
mod series;
mod summary;

use ansinh_proto::pb;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::{cache::Cache, db::Db, error::ApiError, request::page_token};

/// The StatisticsService implementation.
pub(crate) struct Statistics {
    db: Db,
    cache: Cache,
    page_tokens: page_token::Tokens,
}

impl Statistics {
    pub(crate) fn new(db: Db, cache: Cache, page_tokens: page_token::Tokens) -> Self {
        Self {
            db,
            cache,
            page_tokens,
        }
    }
}

#[tonic::async_trait]
impl pb::statistics_service_server::StatisticsService for Statistics {
    #[tracing::instrument(skip_all)]
    async fn list_observations(
        &self,
        request: Request<pb::ListObservationsRequest>,
    ) -> Result<Response<pb::ListObservationsResponse>, Status> {
        let query = listing::ListQuery::read(request.get_ref(), &self.page_tokens)?;
        Ok(Response::new(self.observation_page(query).await?))
    }

    type ExportObservationsStream = ReceiverStream<Result<pb::Observation, Status>>;

    #[tracing::instrument(skip_all)]
    async fn export_observations(
        &self,
        request: Request<pb::ExportObservationsRequest>,
    ) -> Result<Response<Self::ExportObservationsStream>, Status> {
        let query = listing::ExportQuery::read(request.get_ref())?;
        Ok(Response::new(self.export(query).await?))
    }

    /// Served by [`super::encoded`] without decoding cached answers; this is the same answer
    /// for a server built from the generated service alone.
    async fn get_time_series(
        &self,
        request: Request<pb::GetTimeSeriesRequest>,
    ) -> Result<Response<pb::GetTimeSeriesResponse>, Status> {
        let encoded = self.time_series_encoded(request.into_inner()).await?;
        let response = <pb::GetTimeSeriesResponse as prost::Message>::decode(encoded)
            .map_err(|error| ApiError::Internal(Box::new(error)))?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().parent_code, indicator.code = %request.get_ref().indicator_code))]
    async fn aggregate(
        &self,
        request: Request<pb::AggregateRequest>,
    ) -> Result<Response<pb::AggregateResponse>, Status> {
        let query = rollup::ChildrenQuery::of_aggregate(request.get_ref())?;
        Ok(Response::new(self.sum_of_children(query).await?))
    }

    #[tracing::instrument(skip_all, fields(indicator.code = %request.get_ref().indicator_code, regions = request.get_ref().region_codes.len()))]
    async fn get_target_attainment(
        &self,
        request: Request<pb::GetTargetAttainmentRequest>,
    ) -> Result<Response<pb::GetTargetAttainmentResponse>, Status> {
        let query = attainment::AttainmentQuery::read(request.get_ref())?;
        Ok(Response::new(self.attainments(query).await?))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().parent_code, indicator.code = %request.get_ref().indicator_code))]
    async fn rank_regions(
        &self,
        request: Request<pb::RankRegionsRequest>,
    ) -> Result<Response<pb::RankRegionsResponse>, Status> {
        let query = ranking::RankQuery::read(request.get_ref())?;
        Ok(Response::new(self.ranking(query).await?))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().region_code))]
    async fn get_region_summary(
        &self,
        request: Request<pb::GetRegionSummaryRequest>,
    ) -> Result<Response<pb::GetRegionSummaryResponse>, Status> {
        let query = summary::SummaryQuery::read(request.get_ref())?;
        Ok(Response::new(self.summary(query).await?))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().region_code, indicator.code = %request.get_ref().indicator_code))]
    async fn get_observation_history(
        &self,
        request: Request<pb::GetObservationHistoryRequest>,
    ) -> Result<Response<pb::GetObservationHistoryResponse>, Status> {
        let query = history::HistoryQuery::read(request.get_ref())?;
        Ok(Response::new(self.history(query).await?))
    }
}
