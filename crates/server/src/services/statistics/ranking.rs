//! RankRegions: a parent's children at a level ordered by one indicator's figure for a period,
//! each with its difference from the parent's own figure, and how many children reported.

use ansinh_model::{RegionCode, RollUp, rank};
use ansinh_proto::{
    convert::{self, decimal_text},
    pb,
};

use super::Statistics;
use super::regions::region_message;
use super::rollup::{ChildrenFigures, ChildrenQuery};
use crate::error::{ApiError, Violations};

/// A RankRegions request, read.
pub(super) struct RankQuery {
    children: ChildrenQuery,
    ascending: bool,
    limit: usize,
}

impl RankQuery {
    pub(super) fn read(request: &pb::RankRegionsRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let children = ChildrenQuery::read(
            &mut violations,
            &request.parent_code,
            request.level,
            &request.indicator_code,
            &request.period,
        );
        let limit = violations.page_size("limit", request.limit) as usize;
        violations.finish_with(|| {
            Some(Self {
                children: children?,
                ascending: request.ascending,
                limit,
            })
        })
    }
}

impl Statistics {
    /// The children ranked by their figures, the first `limit` of them.
    pub(super) async fn ranking(
        &self,
        query: RankQuery,
    ) -> Result<pb::RankRegionsResponse, ApiError> {
        let RankQuery {
            children: query,
            ascending,
            limit,
        } = query;
        let ChildrenFigures {
            catalog,
            stored,
            parent,
            children,
            figures,
        } = self.children_figures(&query, true).await?;
        let subject = catalog.subject(&query.indicator_code)?;

        let reported = subject.reported(&figures);
        let value_of = |id: u32| {
            reported
                .get(&(id, stored))
                .and_then(|figure| subject.own_value(*figure))
        };
        let parent_value = value_of(parent.id);
        let mut missing = Vec::new();
        let mut entries = Vec::new();
        for (i, child) in children.iter().enumerate() {
            match value_of(child.id) {
                Some(value) => entries.push((i, value)),
                None => missing.push(child.region.code.clone()),
            }
        }
        let completeness = convert::completeness(&RollUp::<RegionCode> {
            value: None,
            numerator: None,
            denominator: None,
            reporting: entries.len(),
            expected: children.len(),
            missing,
        });
        // Keys are positions in the code-ordered children, so ties list in code order.
        let ranked = rank(entries, ascending, parent_value);
        Ok(pb::RankRegionsResponse {
            parent: region_message(&parent),
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(stored)),
            parent_value: convert::optional_decimal_text(parent_value.map(|v| v.value)),
            parent_qualifier: parent_value.map_or(pb::Qualifier::Unspecified.into(), |v| {
                convert::qualifier(v.qualifier)
            }),
            entries: ranked
                .into_iter()
                .take(limit)
                .map(|entry| pb::RankedRegion {
                    rank: i32::try_from(entry.rank).unwrap_or(i32::MAX),
                    region: region_message(&children[entry.key]),
                    value: decimal_text(entry.value.value),
                    qualifier: convert::qualifier(entry.value.qualifier),
                    difference_from_parent: convert::optional_decimal_text(
                        entry.difference_from_reference.map(|d| d.value),
                    ),
                })
                .collect(),
            completeness: Some(completeness),
        })
    }
}
