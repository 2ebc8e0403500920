//! The one place where failures become gRPC statuses. Handlers return `ApiError`; clients get
//! `INVALID_ARGUMENT` with `google.rpc.BadRequest` field violations, `NOT_FOUND` naming what is
//! unknown, or `UNAVAILABLE` when MySQL does not answer. SQL text never reaches a client: the
//! database error is logged here and the client is told only that the store failed.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// A failed call, in the terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more request fields are invalid.
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is well formed but the data's rules forbid the answer, such as rolling up
    /// a reported ratio (a percentage published without its parts cannot be summed).
    #[error("{description}")]
    FailedPrecondition {
        /// The kind of rule, e.g. "INDICATOR_KIND".
        kind: &'static str,
        /// What the rule is about, e.g. "indicators/contributions_plan_rate".
        subject: String,
        /// Why, and what to ask instead.
        description: String,
    },
    /// MySQL did not answer in time or refused the connection.
    #[error("the database is unavailable")]
    Unavailable,
    /// The deadline passed while waiting on the database.
    #[error("the deadline passed before the answer was ready")]
    DeadlineExceeded,
    /// Anything else; logged with its cause, reported without details.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// One invalid field.
    pub fn field(field: &str, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let message = error.to_string();
        match error {
            ApiError::InvalidArgument(violations) => Status::with_error_details(
                Code::InvalidArgument,
                message,
                ErrorDetails::with_bad_request(violations),
            ),
            ApiError::NotFound(_) => Status::not_found(message),
            ApiError::FailedPrecondition {
                kind,
                subject,
                description,
            } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure_violation(kind, subject, description),
            ),
            ApiError::Unavailable => Status::unavailable(message),
            ApiError::DeadlineExceeded => Status::deadline_exceeded(message),
            ApiError::Internal(source) => {
                tracing::error!(error = %source, "call failed");
                Status::internal(message)
            }
        }
    }
}

/// Collects field violations so a handler can report every bad field at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records a violation of `field`.
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps the value of `result`, or records its error against `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        result
            .map_err(|error| self.add(field, error.to_string()))
            .ok()
    }

    /// `Ok(())` when nothing was recorded, else every violation as one error.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidArgument(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_arguments_carry_every_field_violation() {
        let mut violations = Violations::default();
        violations.add("code", "must not be empty");
        violations.add("as_of", "'2024-13-01' is not a date");
        let status = Status::from(violations.finish().unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad_request = status
            .get_details_bad_request()
            .expect("BadRequest details");
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["code", "as_of"]);
    }

    #[test]
    fn failed_preconditions_name_the_rule_and_its_subject() {
        let status = Status::from(ApiError::FailedPrecondition {
            kind: "INDICATOR_KIND",
            subject: "indicators/contributions_plan_rate".into(),
            description: "a reported_ratio cannot be rolled up".into(),
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.message(), "a reported_ratio cannot be rolled up");
        let failure = status
            .get_details_precondition_failure()
            .expect("PreconditionFailure details");
        assert_eq!(failure.violations[0].r#type, "INDICATOR_KIND");
        assert_eq!(
            failure.violations[0].subject,
            "indicators/contributions_plan_rate"
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let cause: Box<dyn std::error::Error + Send + Sync> = "SELECT * FROM secret".into();
        let status = Status::from(ApiError::Internal(cause));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("SELECT"));
    }
}
