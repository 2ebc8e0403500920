//! ImportService: the import ledger, newest run first. The ledger is written by ansinh-import;
//! this service only reads it.

use ansinh_proto::{convert::timestamp_text, pb};
use ansinh_store::{
    models::ImportRunStatus,
    queries::{self, ImportRunRecord},
};

use tonic::{Request, Response, Status};

use crate::{
    db::Db,
    error::{ApiError, Violations},
    request::page_token,
};

/// GetImportRun returns at most this many rejections; the ledger keeps them all.
const MAX_REJECTIONS: u32 = 10_000;

/// The ImportService implementation.
pub(crate) struct Imports {
    db: Db,
    page_tokens: page_token::Tokens,
}

impl Imports {
    pub(crate) fn new(db: Db, page_tokens: page_token::Tokens) -> Self {
        Self { db, page_tokens }
    }
}

fn status(text: &str) -> pb::ImportRunStatus {
    match text.parse::<ImportRunStatus>() {
        Ok(ImportRunStatus::Running) => pb::ImportRunStatus::Running,
        Ok(ImportRunStatus::Committed) => pb::ImportRunStatus::Committed,
        Ok(ImportRunStatus::Rejected) => pb::ImportRunStatus::Rejected,
        Ok(ImportRunStatus::Failed) => pb::ImportRunStatus::Failed,
        Ok(ImportRunStatus::DryRun) => pb::ImportRunStatus::DryRun,
        Err(_) => pb::ImportRunStatus::Unspecified,
    }
}

fn to_pb(record: ImportRunRecord) -> pb::ImportRun {
    let run = record.run;
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    pb::ImportRun {
        id: run.id.to_string(),
        started_at: timestamp_text(run.started_at),
        finished_at: run.finished_at.map(timestamp_text).unwrap_or_default(),
        operator: run.operator,
        status: status(&run.status).into(),
        files: record
            .files
            .into_iter()
            .map(|file| pb::ImportFile {
                path: file.path,
                sha256: file.sha256,
                size_bytes: count(file.size_bytes),
                kind: file.kind,
                row_count: count(file.row_count),
            })
            .collect(),
        counts: Some(pb::ImportCounts {
            inserted: count(run.inserted),
            updated: count(run.updated),
            unchanged: count(run.unchanged),
            rejected: count(run.rejected),
        }),
        rejections: record
            .rejections
            .into_iter()
            .map(|rejection| pb::Rejection {
                file: rejection.file,
                line: i32::try_from(rejection.line).unwrap_or(i32::MAX),
                column: rejection.column_name.unwrap_or_default(),
                value: rejection.value.unwrap_or_default(),
                reason: rejection.reason,
            })
            .collect(),
        message: run.message.unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl pb::import_service_server::ImportService for Imports {
    #[tracing::instrument(skip_all)]
    async fn list_import_runs(
        &self,
        request: Request<pb::ListImportRunsRequest>,
    ) -> Result<Response<pb::ListImportRunsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let page_size = violations.page_size("page_size", request.page_size);
        let before = if request.page_token.is_empty() {
            None
        } else {
            violations
                .check(
                    "page_token",
                    self.page_tokens.decode(&request.page_token, &[]),
                )
                .and_then(|fields| fields.first()?.parse::<u64>().ok())
        };
        violations.finish()?;

        let mut conn = self.db.conn().await?;
        let mut records = queries::list_import_runs(&mut conn, before, page_size + 1)
            .await
            .map_err(ApiError::from)?;
        let next_page_token = if records.len() > page_size as usize {
            records.truncate(page_size as usize);
            self.page_tokens.encode(
                &[],
                &[&records.last().expect("a full page").run.id.to_string()],
            )
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListImportRunsResponse {
            import_runs: records.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(import.run = %request.get_ref().id))]
    async fn get_import_run(
        &self,
        request: Request<pb::GetImportRunRequest>,
    ) -> Result<Response<pb::ImportRun>, Status> {
        let mut violations = Violations::default();
        let id = violations.check(
            "id",
            request
                .get_ref()
                .id
                .trim()
                .parse::<u64>()
                .map_err(|_| "must be an import run id, a whole number such as \"42\""),
        );
        let id = violations.finish_with(|| id)?;

        let mut conn = self.db.conn().await?;
        let record = queries::import_run(&mut conn, id, MAX_REJECTIONS)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no import run with id {id}")))?;
        Ok(Response::new(to_pb(record)))
    }
}
