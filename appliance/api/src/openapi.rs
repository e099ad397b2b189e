//! The OpenAPI 3 document, generated from the handlers and types. A committed copy
//! (`appliance/api/openapi.json`) is compared with it by a test, so a change to the API shows
//! up in review.

use crate::error::ErrorBody;
use crate::routes::{channels, config_io, events, live, session, system, users};
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(title = "Feedline appliance API", description = "Configure and monitor a Feedline contribution encoder. Authenticate with a session cookie (browser; send X-CSRF-Token on writes) or an API token (Authorization: Bearer)."),
    paths(
        system::health, session::setup_state, session::setup, session::login, session::logout,
        session::session, system::system, system::tls_info, system::tls_upload, system::alarms,
        live::status, live::stream, events::events, events::audit, config_io::export,
        config_io::import, channels::list, channels::get, channels::create, channels::replace,
        channels::patch, channels::delete, channels::start, channels::stop, channels::revert_input, live::thumbnail,
        users::list_users,
        users::create_user, users::delete_user, users::list_tokens, users::create_token,
        users::delete_token,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security, &ErrorResponses),
    security(("token" = []), ("session" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::sessions::COOKIE,
            ))),
        );
        // These need no credentials.
        for path in ["/api/v1/health", "/api/v1/setup", "/api/v1/login"] {
            if let Some(item) = doc.paths.paths.get_mut(path) {
                for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                    op.security = Some(vec![Default::default()]);
                }
            }
        }
    }
}

/// Every operation can fail with these; each carries an `ErrorBody` naming the field at fault.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let errors = [
            (
                "400",
                "malformed request (JSON syntax, query or path parameter)",
            ),
            ("401", "not logged in, or unknown/expired token"),
            (
                "403",
                "role too low, or missing CSRF token on a cookie-authenticated write",
            ),
            ("404", "no such channel, user or token"),
            ("405", "method not allowed"),
            ("409", "conflicts with the current state"),
            ("413", "body too large"),
            ("415", "wrong Content-Type"),
            ("422", "a field is invalid; `fields` names it"),
            ("429", "too many failed attempts from this address"),
            ("503", "safe mode: the store cannot be used"),
        ];
        let schema = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ErrorBody::name()));
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for (code, what) in errors {
                    op.responses
                        .responses
                        .entry(code.into())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(what)
                                .content(
                                    "application/json",
                                    utoipa::openapi::ContentBuilder::new()
                                        .schema(Some(schema.clone()))
                                        .build(),
                                )
                                .into()
                        });
                }
            }
        }
    }
}

pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

pub async fn serve() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        DOC.get_or_init(document).clone(),
    )
}

#[cfg(test)]
mod tests {
    /// The committed spec must match the code. Regenerate with
    /// `UPDATE_OPENAPI=1 cargo test -p feedline-api openapi`.
    #[test]
    fn committed_openapi_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        let generated = super::document() + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("write openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "appliance/api/openapi.json is out of date: run UPDATE_OPENAPI=1 cargo test -p feedline-api openapi"
        );
    }
}
