//! The listeners: the API (HTTPS, or HTTP with TLS off), the HTTP→HTTPS redirect, and the
//! metrics endpoint on its own port. Sockets are bound before this returns, so a port clash is
//! reported at start, not discovered later; the servers then run on their own tokio runtime
//! thread, beside the supervisor's media threads.

use crate::control::Control;
use crate::events::EventLog;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use feedline_store::Store;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Settings {
    pub bind: IpAddr,
    pub http_port: u16,
    pub https_port: u16,
    pub tls: bool,
    pub metrics_port: u16,
    pub metrics_token: Option<String>,
    pub data_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        addr: SocketAddr,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("cannot start the API runtime: {0}")]
    Runtime(std::io::Error),
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("store: {0}")]
    Store(#[from] feedline_store::StoreError),
}

fn bind(addr: SocketAddr, what: &'static str) -> Result<TcpListener, ServeError> {
    let listener =
        TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, what, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Bind { addr, what, source })?;
    Ok(listener)
}

/// Binds every listener and starts serving; returns once they are listening.
pub fn spawn(
    settings: Settings,
    control: Arc<dyn Control>,
    store: Arc<Store>,
    events: EventLog,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("api")
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let api_port = if settings.tls {
        settings.https_port
    } else {
        settings.http_port
    };
    let api_listener = bind(SocketAddr::new(settings.bind, api_port), "API")?;
    let redirect_listener = if settings.tls {
        Some(bind(
            SocketAddr::new(settings.bind, settings.http_port),
            "HTTP redirect",
        )?)
    } else {
        None
    };
    let metrics_listener = bind(
        SocketAddr::new(settings.bind, settings.metrics_port),
        "metrics",
    )?;

    let tls = if settings.tls {
        Some(runtime.block_on(crate::tls::load_or_generate(&settings.data_dir))?)
    } else {
        None
    };
    let setup_code = if store.user_count()? == 0 {
        let code = crate::auth::secrets::setup_code();
        tracing::warn!(setup_code = %code, "no users yet: create the first admin with this one-time code (POST /api/v1/setup or the web UI)");
        Some(code)
    } else {
        None
    };
    let state = AppState::new(control.clone(), store, events, setup_code, tls.clone());
    let app = crate::routes::api(state.clone());
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(api = %format!("{scheme}://{}:{api_port}/api/v1", settings.bind),
        metrics = %format!("http://{}:{}/metrics", settings.bind, settings.metrics_port), "API listening");

    let metrics_app = Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { (StatusCode::NOT_FOUND, "metrics are at /metrics\n") })
        .with_state(MetricsState {
            state,
            token: settings.metrics_token.map(Arc::from),
        });
    let https_port = settings.https_port;

    std::thread::Builder::new()
        .name("api".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut servers = tokio::task::JoinSet::new();
                let service = app.into_make_service_with_connect_info::<SocketAddr>();
                match tls {
                    Some(tls) => {
                        servers.spawn(async move {
                            axum_server::from_tcp_rustls(api_listener, tls.config)
                                .serve(service)
                                .await
                        });
                    }
                    None => {
                        servers.spawn(async move {
                            axum_server::from_tcp(api_listener).serve(service).await
                        });
                    }
                }
                if let Some(listener) = redirect_listener {
                    let redirect = Router::new()
                        .fallback(move |req: Request| redirect_to_https(req, https_port));
                    servers.spawn(async move {
                        axum_server::from_tcp(listener)
                            .serve(redirect.into_make_service())
                            .await
                    });
                }
                servers.spawn(async move {
                    axum_server::from_tcp(metrics_listener)
                        .serve(metrics_app.into_make_service())
                        .await
                });
                while let Some(result) = servers.join_next().await {
                    if let Ok(Err(e)) = result {
                        tracing::error!(error = %e, "an API listener stopped");
                    }
                }
            });
        })
        .map_err(ServeError::Runtime)?;
    Ok(())
}

async fn redirect_to_https(req: Request, https_port: u16) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    // Strip a port, keeping IPv6 brackets intact.
    let host = match host.rsplit_once(':') {
        Some((h, port))
            if !h.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
                && (!h.contains(':') || h.ends_with(']')) =>
        {
            h
        }
        _ => host,
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Redirect::permanent(&format!("https://{host}:{https_port}{path}")).into_response()
}

#[derive(Clone)]
struct MetricsState {
    state: AppState,
    token: Option<Arc<str>>,
}

async fn metrics(State(m): State<MetricsState>, req: Request) -> Response {
    if let Some(token) = &m.token {
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::auth::secrets::constant_time_eq(sent.trim(), token) {
            return (
                StatusCode::UNAUTHORIZED,
                "metrics need Authorization: Bearer <token>\n",
            )
                .into_response();
        }
    }
    let format = crate::metrics::Format::from_accept(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let status = m.state.control.status().borrow().clone();
    let body = crate::metrics::render(&status, m.state.started.elapsed().as_secs_f64(), format);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}
