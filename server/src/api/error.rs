//! Errors of the REST API, answered the way Argo Server answers them: a gRPC status code and
//! message as JSON (`{"code": 5, "message": "…", "details": []}`) with the HTTP status
//! grpc-gateway maps that code to. Lint findings travel in `details` as well as in the message,
//! so a client sees every problem at once. A 500 hides its cause from the client and logs it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use controller::local::BackendError;
use controller::store::StoreError;
use engine::diag::Diagnostic;
use serde::Serialize;

/// Result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or asks for something impossible (gRPC InvalidArgument).
    #[error("{0}")]
    BadRequest(String),
    /// The manifest in the request does not pass lint; nothing was created.
    #[error("{summary}")]
    Lint {
        /// One line naming every error.
        summary: String,
        /// The findings, errors and warnings.
        diagnostics: Vec<Diagnostic>,
    },
    /// The object does not exist (gRPC NotFound).
    #[error("{0}")]
    NotFound(String),
    /// An object of that name exists already (gRPC AlreadyExists).
    #[error("{0}")]
    AlreadyExists(String),
    /// Someone else changed the object since the client read it (gRPC Aborted).
    #[error("{0}")]
    Conflict(String),
    /// The object is not in a state where the operation applies (gRPC FailedPrecondition).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller may not do this, and the message says why (gRPC PermissionDenied).
    #[error("{0}")]
    Forbidden(String),
    /// The request carries no valid credentials (gRPC Unauthenticated).
    #[error("{0}")]
    Unauthenticated(String),
    /// The server failed; the cause is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

/// gRPC status codes used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
enum Code {
    InvalidArgument = 3,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    FailedPrecondition = 9,
    Aborted = 10,
    Internal = 13,
    Unauthenticated = 16,
}

/// The JSON body of an error (google.rpc.Status, as grpc-gateway writes it).
#[derive(Debug, Serialize)]
struct Body<'a> {
    code: i32,
    message: String,
    details: &'a [Diagnostic],
}

impl ApiError {
    fn code(&self) -> Code {
        match self {
            ApiError::BadRequest(_) | ApiError::Lint { .. } => Code::InvalidArgument,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::AlreadyExists(_) => Code::AlreadyExists,
            ApiError::Conflict(_) => Code::Aborted,
            ApiError::FailedPrecondition(_) => Code::FailedPrecondition,
            ApiError::Forbidden(_) => Code::PermissionDenied,
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::Internal(_) => Code::Internal,
        }
    }

    /// The HTTP status grpc-gateway answers for this error's code.
    pub fn status(&self) -> StatusCode {
        match self.code() {
            Code::InvalidArgument | Code::FailedPrecondition => StatusCode::BAD_REQUEST,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body a client gets.
    pub fn body(&self) -> serde_json::Value {
        let details = match self {
            ApiError::Lint { diagnostics, .. } => diagnostics.as_slice(),
            _ => &[],
        };
        serde_json::to_value(Body {
            code: self.code() as i32,
            message: self.to_string(),
            details,
        })
        .unwrap_or_default()
    }

    /// A bad request.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::AlreadyExists { .. } => ApiError::AlreadyExists(e.to_string()),
            StoreError::Conflict { .. } => ApiError::Conflict(e.to_string()),
            StoreError::Invalid { .. } | StoreError::Selector(_) => {
                ApiError::BadRequest(e.to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Store(s) => s.into(),
            BackendError::Op(op) => ApiError::FailedPrecondition(op.to_string()),
            BackendError::NotRunning(_) => ApiError::FailedPrecondition(
                "the workflow is not running: it has finished (or not started yet)".into(),
            ),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_grpc_gateway() {
        let cases = [
            (ApiError::bad("x"), 3, 400),
            (ApiError::NotFound("x".into()), 5, 404),
            (ApiError::AlreadyExists("x".into()), 6, 409),
            (ApiError::FailedPrecondition("x".into()), 9, 400),
            (ApiError::Conflict("x".into()), 10, 409),
            (ApiError::Forbidden("x".into()), 7, 403),
            (ApiError::Unauthenticated("x".into()), 16, 401),
            (ApiError::Internal("disk on fire".into()), 13, 500),
        ];
        for (e, code, status) in cases {
            assert_eq!(e.body()["code"], code, "{e:?}");
            assert_eq!(e.status().as_u16(), status, "{e:?}");
        }
    }

    #[test]
    fn a_500_does_not_tell_its_cause() {
        let body = ApiError::Internal("password=hunter2".into()).body();
        assert_eq!(body["message"], "internal error");
    }
}
