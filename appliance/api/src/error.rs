//! One error type for every handler: a status code and a JSON body that names the field at
//! fault. Internal causes are logged, never sent to the client.

use crate::control::ControlError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable: `invalid`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `too_many_requests`, `unsupported_media_type`, `payload_too_large`, `safe_mode`,
    /// `internal`.
    pub error: String,
    pub message: String,
    /// The fields at fault, each with its path (`ladder[1].bitrate_kbps`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: error.into(),
                message: message.into(),
                fields: Vec::new(),
            },
            retry_after_s: None,
        }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{field}: {message}"),
        );
        e.body.fields.push(FieldProblem { field, message });
        e
    }

    pub fn invalid_fields(fields: Vec<FieldProblem>) -> Self {
        let summary: Vec<String> = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            summary.join("; "),
        );
        e.body.fields = fields;
        e
    }

    pub fn bad_request(field: Option<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message.clone());
        if let Some(field) = field {
            e.body.message = format!("{field}: {message}");
            e.body.fields.push(FieldProblem { field, message });
        }
        e
    }

    pub fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn too_many_requests(retry_after_s: u64) -> Self {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many failed attempts from this address; retry in {retry_after_s} s"),
        );
        e.retry_after_s = Some(retry_after_s);
        e
    }

    /// Logs the cause and tells the client only that something failed on our side.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the appliance log",
        )
    }

    /// Field paths of a whole-config validation, rewritten relative to one channel
    /// (`channels[2].ladder[0].x` → `ladder[0].x`) when a channel endpoint was called.
    pub fn relative_to_channel(mut self, index: usize) -> Self {
        let prefix = format!("channels[{index}].");
        for f in &mut self.body.fields {
            if let Some(rest) = f.field.strip_prefix(&prefix) {
                f.field = rest.to_string();
            }
        }
        let summary: Vec<String> = self
            .body
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        if !summary.is_empty() {
            self.body.message = summary.join("; ");
        }
        self
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        match e {
            ControlError::Invalid(fields) => ApiError::invalid_fields(
                fields
                    .into_iter()
                    .map(|f| FieldProblem {
                        field: f.path,
                        message: f.message,
                    })
                    .collect(),
            ),
            ControlError::NotFound(m) => ApiError::not_found(m),
            ControlError::Conflict(m) => ApiError::conflict(m),
            ControlError::SafeMode(m) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "safe_mode",
                format!("the appliance is in safe mode and cannot change its configuration: {m}"),
            ),
            ControlError::Internal(m) => ApiError::internal(m),
        }
    }
}

impl From<feedline_store::StoreError> for ApiError {
    fn from(e: feedline_store::StoreError) -> Self {
        match e {
            feedline_store::StoreError::Conflict(m) => ApiError::conflict(m),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
