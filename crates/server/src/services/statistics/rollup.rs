//! Aggregate: one indicator summed over a parent's children at a level, by the indicator's
//! rule (amounts and levels add up, ratios are recomputed from their summed parts, reported
//! ratios are refused), with how many children reported.

use std::sync::Arc;

use ansinh_model::{
    IndicatorCode, IndicatorKind, Period, RegionCode, RegionLevel, Reported, RollUp, roll_up,
};
use ansinh_proto::{convert, pb};

use ansinh_store::queries::{self, EndWindow, Figure, RegionRecord};

use super::Statistics;
use super::regions::{parent_and_children, region_message};
use crate::catalog::{CatalogView, catalog};
use crate::error::{ApiError, Violations};

/// The question of Aggregate and RankRegions: an indicator's figures for one period, of the
/// children at `level` of a parent region.
pub(super) struct ChildrenQuery {
    pub(super) parent_code: RegionCode,
    pub(super) level: RegionLevel,
    pub(super) indicator_code: IndicatorCode,
    pub(super) period: Period,
}

impl ChildrenQuery {
    /// Reads the four fields both requests share, recording what is wrong in `violations`.
    pub(super) fn read(
        violations: &mut Violations,
        parent_code: &str,
        level: i32,
        indicator_code: &str,
        period: &str,
    ) -> Option<Self> {
        let parent_code = violations.region_code("parent_code", parent_code);
        let level = violations.level("level", level);
        let indicator_code = violations.indicator_code("indicator_code", indicator_code);
        let period = violations.period("period", period);
        Some(Self {
            parent_code: parent_code?,
            level: level?,
            indicator_code: indicator_code?,
            period: period?,
        })
    }

    /// An Aggregate request, read.
    pub(super) fn of_aggregate(request: &pb::AggregateRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let query = Self::read(
            &mut violations,
            &request.parent_code,
            request.level,
            &request.indicator_code,
            &request.period,
        );
        violations.finish_with(|| query)
    }
}

/// What Aggregate and RankRegions compute from: the catalog, the stored period of the question,
/// the parent and its children valid then, and the figures of the indicator and its parts.
pub(super) struct ChildrenFigures {
    pub(super) catalog: Arc<CatalogView>,
    pub(super) stored: Period,
    pub(super) parent: RegionRecord,
    pub(super) children: Vec<RegionRecord>,
    pub(super) figures: Vec<Figure>,
}

impl Statistics {
    /// The figures of `query`'s children, and of the parent too when `with_parent`.
    pub(super) async fn children_figures(
        &self,
        query: &ChildrenQuery,
        with_parent: bool,
    ) -> Result<ChildrenFigures, ApiError> {
        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let catalog = catalog(generation.as_deref(), &mut conn).await?;
        let subject = catalog.subject(&query.indicator_code)?;
        let stored = subject.stored_period(query.period);
        let (parent, children) =
            parent_and_children(&mut conn, &query.parent_code, query.level, stored.end()).await?;
        let mut ids: Vec<u32> = children.iter().map(|c| c.id).collect();
        if with_parent {
            ids.push(parent.id);
        }
        let figures = queries::figures(
            &mut conn,
            &ids,
            Some(&subject.indicator_ids()),
            EndWindow::on(stored.end()),
        )
        .await?;
        drop(conn);
        Ok(ChildrenFigures {
            catalog,
            stored,
            parent,
            children,
            figures,
        })
    }

    /// The children's figures rolled up into the parent.
    pub(super) async fn sum_of_children(
        &self,
        query: ChildrenQuery,
    ) -> Result<pb::AggregateResponse, ApiError> {
        let ChildrenFigures {
            catalog,
            stored,
            parent,
            children,
            figures,
        } = self.children_figures(&query, false).await?;
        let subject = catalog.subject(&query.indicator_code)?;

        let mut reported = subject.reported(&figures);
        let rolled: RollUp<RegionCode> = roll_up(
            subject.kind(),
            children.iter().map(|child| {
                let figure = reported
                    .remove(&(child.id, stored))
                    .unwrap_or(Reported::NOTHING);
                (child.region.code.clone(), figure)
            }),
        )
        .map_err(|error| subject.roll_up_error(error))?;
        let is_ratio = subject.kind() == IndicatorKind::Ratio;
        Ok(pb::AggregateResponse {
            parent: region_message(&parent),
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(stored)),
            value: convert::optional_decimal_text(rolled.value.map(|v| v.value)),
            qualifier: rolled.value.map_or(pb::Qualifier::Unspecified.into(), |v| {
                convert::qualifier(v.qualifier)
            }),
            numerator_value: if is_ratio {
                convert::optional_decimal_text(rolled.numerator.map(|v| v.value))
            } else {
                String::new()
            },
            denominator_value: if is_ratio {
                convert::optional_decimal_text(rolled.denominator.map(|v| v.value))
            } else {
                String::new()
            },
            completeness: Some(convert::completeness(&rolled)),
        })
    }
}
