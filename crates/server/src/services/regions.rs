//! RegionService: region versions by code and date, listings, lineage across the 2025 reform,
//! and codes converted from one day's boundaries to another's.

use std::sync::Arc;

use ansinh_model::{LineageGraph, NaiveDate, RegionCode};
use ansinh_proto::{
    convert::{decimal_text, region_level},
    pb,
};
use ansinh_store::AsyncMysqlConnection;
use ansinh_store::queries::{self, RegionCursor, RegionFilter, RegionRecord};
use tonic::{Request, Response, Status};

use crate::{
    cache::{Cache, RegionIndex},
    db::Db,
    error::{ApiError, Violations},
    request::{REGION_LEVELS, page_token},
};

/// The most codes one ConvertRegionCodes call converts: every commune of both generations.
const MAX_CONVERTED_CODES: usize = 20_000;

/// The RegionService implementation.
pub(crate) struct Regions {
    db: Db,
    cache: Cache,
    page_tokens: page_token::Tokens,
}

impl Regions {
    pub(crate) fn new(db: Db, cache: Cache, page_tokens: page_token::Tokens) -> Self {
        Self {
            db,
            cache,
            page_tokens,
        }
    }
}

fn lineage_edges(edges: Vec<queries::LineageEdge>) -> Vec<pb::LineageEdge> {
    edges
        .into_iter()
        .map(|edge| pb::LineageEdge {
            region: Some(pb::Region::from(&edge.region.region)),
            kind: pb::LineageKind::from(edge.kind).into(),
            effective_date: ansinh_proto::convert::date_text(edge.effective_date),
            approximate: edge.approximate,
            weight: edge.weight.map(decimal_text).unwrap_or_default(),
        })
        .collect()
}

/// A region code and the day it is read on, as GetRegion and GetRegionLineage take them.
struct VersionQuery {
    code: RegionCode,
    as_of: NaiveDate,
}

impl VersionQuery {
    fn read(code: &str, as_of: &str) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let code = violations.region_code("code", code);
        let as_of = violations.date_or_today("as_of", as_of);
        violations.finish_with(|| Some(Self { code: code?, as_of }))
    }

    async fn version(&self, conn: &mut AsyncMysqlConnection) -> Result<RegionRecord, ApiError> {
        queries::region_at(conn, &self.code, self.as_of)
            .await?
            .ok_or_else(|| ApiError::not_valid(&self.code, self.as_of))
    }
}

/// A ConvertRegionCodes request, read.
struct ConvertQuery {
    codes: Vec<RegionCode>,
    from: NaiveDate,
    to: NaiveDate,
}

impl ConvertQuery {
    fn read(request: &pb::ConvertRegionCodesRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        if request.codes.is_empty() {
            violations.add(
                "codes",
                "is required: at least one region code such as \"00001\"",
            );
        } else if request.codes.len() > MAX_CONVERTED_CODES {
            violations.add(
                "codes",
                format!(
                    "has {} codes; at most {MAX_CONVERTED_CODES} are converted in one call, so send them in parts",
                    request.codes.len()
                ),
            );
        }
        let codes = violations.region_codes("codes", &request.codes);
        let from = violations.date("from_date", &request.from_date);
        let to = violations.date("to_date", &request.to_date);
        violations.finish_with(|| {
            Some(Self {
                codes,
                from: from?,
                to: to?,
            })
        })
    }
}

impl Regions {
    /// Each code's conversion, from the cache's regions and lineage when it serves.
    async fn conversions(
        &self,
        query: ConvertQuery,
    ) -> Result<pb::ConvertRegionCodesResponse, ApiError> {
        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let (regions, lineage) = match &generation {
            Some(generation) => (
                generation.regions(&mut conn).await?,
                generation.lineage(&mut conn).await?,
            ),
            None => (
                Arc::new(RegionIndex::load(&mut conn).await?),
                Arc::new(LineageGraph::new(queries::lineage_links(&mut conn).await?)),
            ),
        };
        drop(conn);
        let conversions = query
            .codes
            .iter()
            .map(|code| convert(&regions, &lineage, code, query.from, query.to))
            .collect();
        Ok(pb::ConvertRegionCodesResponse { conversions })
    }
}

/// What `code`, read on `from`, maps to on `to`.
fn convert(
    regions: &RegionIndex,
    lineage: &LineageGraph<u32>,
    code: &RegionCode,
    from: NaiveDate,
    to: NaiveDate,
) -> pb::RegionConversion {
    let failed = |status: pb::ConversionStatus, problem: String| pb::RegionConversion {
        code: code.to_string(),
        status: status.into(),
        problem,
        ..Default::default()
    };
    let versions = regions.versions(code.as_str());
    if versions.is_empty() {
        return failed(
            pb::ConversionStatus::UnknownCode,
            format!("no region has code {code}"),
        );
    }
    let Some(start) = versions.iter().find(|r| r.region.validity.contains(from)) else {
        let valid: Vec<String> = versions
            .iter()
            .map(|r| r.region.validity.to_string())
            .collect();
        return failed(
            pb::ConversionStatus::NotValidOnFromDate,
            format!(
                "no version of {code} is valid on {from}; its versions are valid {}",
                valid.join(", ")
            ),
        );
    };
    let mut results: Vec<(&RegionRecord, ansinh_model::Conversion<u32>)> = lineage
        .convert(start.id, to, |id| {
            regions.version(id).map(|r| r.region.validity)
        })
        .into_iter()
        .filter_map(|conversion| Some((regions.version(conversion.region)?, conversion)))
        .collect();
    results.sort_by(|a, b| a.0.region.code.cmp(&b.0.region.code));
    pb::RegionConversion {
        code: code.to_string(),
        status: pb::ConversionStatus::Converted.into(),
        problem: String::new(),
        region: Some(pb::Region::from(&start.region)),
        exact: !results.is_empty() && results.iter().all(|(_, c)| c.exact),
        results: results
            .into_iter()
            .map(|(record, conversion)| pb::ConvertedRegion {
                region: Some(pb::Region::from(&record.region)),
                kind: conversion
                    .kind
                    .map_or(pb::LineageKind::Unspecified, pb::LineageKind::from)
                    .into(),
                exact: conversion.exact,
                weight: conversion.weight.map(decimal_text).unwrap_or_default(),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl pb::region_service_server::RegionService for Regions {
    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().code))]
    async fn get_region(
        &self,
        request: Request<pb::GetRegionRequest>,
    ) -> Result<Response<pb::Region>, Status> {
        let query = VersionQuery::read(&request.get_ref().code, &request.get_ref().as_of)?;
        let mut conn = self.db.conn().await?;
        let record = query.version(&mut conn).await?;
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
                pb::RegionLevel::try_from(request.level)
                    .map_err(|_| format!("is not a RegionLevel value; {REGION_LEVELS}")),
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
                    .ok_or_else(|| ApiError::not_valid(code, as_of))?
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
        let query = VersionQuery::read(&request.get_ref().code, &request.get_ref().as_of)?;
        let mut conn = self.db.conn().await?;
        let record = query.version(&mut conn).await?;
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

    #[tracing::instrument(skip_all, fields(codes = request.get_ref().codes.len()))]
    async fn convert_region_codes(
        &self,
        request: Request<pb::ConvertRegionCodesRequest>,
    ) -> Result<Response<pb::ConvertRegionCodesResponse>, Status> {
        let query = ConvertQuery::read(request.get_ref())?;
        Ok(Response::new(self.conversions(query).await?))
    }
}
