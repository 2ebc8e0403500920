//! RegionService: region versions by code and date, listings, and lineage across the 2025
//! merger.

use ansinh_proto::{convert::region_level, pb};
use ansinh_store::queries::{self, RegionCursor, RegionFilter, RegionRecord};
use tonic::{Request, Response, Status};

use crate::{
    db::Db,
    error::{ApiError, Violations},
    request::page_token,
};

/// The RegionService implementation.
pub(crate) struct Regions {
    db: Db,
    page_tokens: page_token::Tokens,
}

impl Regions {
    pub(crate) fn new(db: Db, page_tokens: page_token::Tokens) -> Self {
        Self { db, page_tokens }
    }
}

fn not_valid(code: &impl std::fmt::Display, date: ansinh_model::NaiveDate) -> ApiError {
    ApiError::NotFound(format!("no region with code {code} is valid on {date}"))
}

fn lineage_edges(edges: Vec<queries::LineageEdge>) -> Vec<pb::LineageEdge> {
    edges
        .into_iter()
        .map(|edge| pb::LineageEdge {
            region: Some(pb::Region::from(&edge.region.region)),
            kind: pb::LineageKind::from(edge.kind).into(),
            effective_date: ansinh_proto::convert::date_text(edge.effective_date),
            approximate: edge.approximate,
        })
        .collect()
}

#[tonic::async_trait]
impl pb::region_service_server::RegionService for Regions {
    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().code))]
    async fn get_region(
        &self,
        request: Request<pb::GetRegionRequest>,
    ) -> Result<Response<pb::Region>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let code = violations.region_code("code", &request.code);
        let as_of = violations.date_or_today("as_of", &request.as_of);
        violations.finish()?;
        let code = code.expect("checked above");

        let mut conn = self.db.conn().await?;
        let record = queries::region_at(&mut conn, &code, as_of)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| not_valid(&code, as_of))?;
        Ok(Response::new(pb::Region::from(&record.region)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_regions(
        &self,
        request: Request<pb::ListRegionsRequest>,
    ) -> Result<Response<pb::ListRegionsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let level = violations
            .check(
                "level",
                pb::RegionLevel::try_from(request.level).map_err(|_| "is not a RegionLevel value"),
            )
            .and_then(region_level);
        let as_of = violations.date_or_today("as_of", &request.as_of);
        let parent_code = if request.parent_code.trim().is_empty() {
            None
        } else {
            violations.region_code("parent_code", &request.parent_code)
        };
        let page_size = violations.page_size("page_size", request.page_size);
        let level_text = level.map(|l| l.as_str()).unwrap_or_default();
        let as_of_text = as_of.to_string();
        let filter_fields = [
            level_text,
            request.parent_code.trim(),
            &as_of_text,
            request.query.trim(),
        ];
        let cursor = if request.page_token.is_empty() {
            None
        } else {
            violations
                .check(
                    "page_token",
                    self.page_tokens.decode(&request.page_token, &filter_fields),
                )
                .and_then(|fields| match fields.as_slice() {
                    [code, id] => Some(RegionCursor {
                        code: code.clone(),
                        id: id.parse().ok()?,
                    }),
                    _ => None,
                })
        };
        violations.finish()?;

        let mut conn = self.db.conn().await?;
        let parent_id = match &parent_code {
            Some(code) => Some(
                queries::region_at(&mut conn, code, as_of)
                    .await
                    .map_err(ApiError::from)?
                    .ok_or_else(|| not_valid(code, as_of))?
                    .id,
            ),
            None => None,
        };
        let query = request.query.trim();
        let filter = RegionFilter {
            level,
            parent_id,
            valid_on: Some(as_of),
            name: (!query.is_empty()).then_some(query),
        };
        let mut records = queries::list_regions(&mut conn, &filter, cursor.as_ref(), page_size + 1)
            .await
            .map_err(ApiError::from)?;
        let next_page_token = if records.len() > page_size as usize {
            records.truncate(page_size as usize);
            let last: &RegionRecord = records.last().expect("a full page");
            let cursor = RegionCursor::after(last);
            self.page_tokens
                .encode(&filter_fields, &[&cursor.code, &cursor.id.to_string()])
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListRegionsResponse {
            regions: records
                .iter()
                .map(|record| pb::Region::from(&record.region))
                .collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().code))]
    async fn get_region_lineage(
        &self,
        request: Request<pb::GetRegionLineageRequest>,
    ) -> Result<Response<pb::GetRegionLineageResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let code = violations.region_code("code", &request.code);
        let as_of = violations.date_or_today("as_of", &request.as_of);
        violations.finish()?;
        let code = code.expect("checked above");

        let mut conn = self.db.conn().await?;
        let record = queries::region_at(&mut conn, &code, as_of)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| not_valid(&code, as_of))?;
        let predecessors = queries::lineage_predecessors(&mut conn, record.id)
            .await
            .map_err(ApiError::from)?;
        let successors = queries::lineage_successors(&mut conn, record.id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::GetRegionLineageResponse {
            region: Some(pb::Region::from(&record.region)),
            predecessors: lineage_edges(predecessors),
            successors: lineage_edges(successors),
        }))
    }
}
