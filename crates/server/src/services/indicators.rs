//! IndicatorService: the catalog. It is small (tens of entries), so a page is cut from the
//! ordered list rather than queried with a cursor.

use ansinh_proto::pb;
use ansinh_store::queries;
use tonic::{Request, Response, Status};

use crate::{
    db::Db,
    error::{ApiError, Violations},
    request::page_token,
};

/// The IndicatorService implementation.
pub(crate) struct Indicators {
    db: Db,
    page_tokens: page_token::Tokens,
}

impl Indicators {
    pub(crate) fn new(db: Db, page_tokens: page_token::Tokens) -> Self {
        Self { db, page_tokens }
    }
}

#[tonic::async_trait]
impl pb::indicator_service_server::IndicatorService for Indicators {
    #[tracing::instrument(skip_all)]
    async fn list_indicators(
        &self,
        request: Request<pb::ListIndicatorsRequest>,
    ) -> Result<Response<pb::ListIndicatorsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let page_size = violations.page_size("page_size", request.page_size) as usize;
        let after = if request.page_token.is_empty() {
            None
        } else {
            violations
                .check(
                    "page_token",
                    self.page_tokens.decode(&request.page_token, &[]),
                )
                .and_then(|fields| fields.into_iter().next())
        };
        violations.finish()?;

        let mut conn = self.db.conn().await?;
        let records = queries::list_indicators(&mut conn)
            .await
            .map_err(ApiError::from)?;
        let mut page: Vec<_> = records
            .iter()
            .filter(|record| {
                after
                    .as_deref()
                    .is_none_or(|after| record.indicator.code.as_str() > after)
            })
            .take(page_size + 1)
            .collect();
        let next_page_token = if page.len() > page_size {
            page.truncate(page_size);
            self.page_tokens.encode(
                &[],
                &[page.last().expect("a full page").indicator.code.as_str()],
            )
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListIndicatorsResponse {
            indicators: page
                .into_iter()
                .map(|record| pb::Indicator::from(&record.indicator))
                .collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(indicator.code = %request.get_ref().code))]
    async fn get_indicator(
        &self,
        request: Request<pb::GetIndicatorRequest>,
    ) -> Result<Response<pb::Indicator>, Status> {
        let mut violations = Violations::default();
        let code = violations.indicator_code("code", &request.get_ref().code);
        let code = violations.finish_with(|| code)?;

        let mut conn = self.db.conn().await?;
        let record = queries::indicator_by_code(&mut conn, &code)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                ApiError::NotFound(format!("no indicator with code {code} in the catalog"))
            })?;
        Ok(Response::new(pb::Indicator::from(&record.indicator)))
    }
}
