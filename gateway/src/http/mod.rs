//! HTTP serving: the routes and the cross-cutting layers, in one ordered stack.

mod assets;
mod board;
mod error;
mod export;
mod feeds;
mod graphiql;

pub use assets::RoleToken;
pub use board::page as board_page;
pub use graphiql::page as graphiql_page;
pub use protocol_refusals::RefusingListener;
mod graphql;
mod health;
mod negotiate;
pub mod persisted;
mod photos;
mod protocol_refusals;
mod sharing;
mod uploads;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::get;
use schema::error::ErrorCode;
use schema::{GovSchema, Store};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::{Config, LimitsConfig};
use error::Refusal;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub schema: GovSchema,
    pub store: Store,
    pub federation: Arc<connectors::Federation>,
    pub signals: Arc<schema::workflow::SignalHub>,
    pub redis: Option<redis::Client>,
    pub limits: LimitsConfig,
    pub auth: crate::auth::Authenticator,
    /// WebSocket operations' executions, identical subscriptions sharing one.
    pub feeds: Arc<feeds::Feeds>,
    /// The GraphiQL page, rendered once.
    pub graphiql: String,
    /// The dispatch board's page, rendered once.
    pub board: String,
    /// Automatic persisted queries and trusted documents.
    pub persisted: persisted::PersistedDocuments,
    /// Per-principal rate limits, when configured.
    pub limiter: Option<crate::rate_limit::RateLimiter>,
    /// Permits for exports streaming at once (`limits.max_exports`).
    pub exports: Arc<tokio::sync::Semaphore>,
    /// Turns true when the server begins to shut down: long-lived streams end then.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl Shared {
    /// Completes when the server begins to shut down.
    pub async fn stopped(&self) {
        stopped(&mut self.stopping.clone()).await;
    }
}

/// Completes when `stopping`, a receiver of [`Shared::stopping`], turns true.
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone: the server is gone too.
    let _ = stopping.wait_for(|stopping| *stopping).await;
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

pub fn router(state: AppState, config: &Config) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let graphql = get(get_or_upgrade).post(graphql::post).fallback(|| async {
        Refusal::new(
            ErrorCode::MethodNotAllowed,
            "use GET for queries or POST for any operation",
        )
    });
    Router::new()
        .route("/", get(graphiql::serve))
        .route("/graphiql/{asset}", get(graphiql::asset))
        .route("/board", get(board::serve))
        .route("/board/{asset}", get(board::asset))
        .route("/graphql", graphql)
        .route("/photos/{id}", get(photos::serve))
        .route("/export/{file}", get(export::serve))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::serve))
        .fallback(|| async {
            Refusal::new(
                ErrorCode::NotFound,
                "no such endpoint; GraphQL is served at /graphql",
            )
        })
        .method_not_allowed_fallback(|| async {
            Refusal::method_not_allowed("this endpoint answers GET only", "GET")
        })
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CatchPanicLayer::custom(|_| {
                    tracing::error!("handler panicked");
                    Refusal::new(ErrorCode::Internal, "internal error").into_response()
                }))
                .layer(axum::middleware::from_fn(with_request_id))
                .layer(axum::middleware::from_fn(plain_options))
                .layer(cors(&config.cors_allowed_origins)),
        )
}

/// The span every log line of a request is written in: its method, path and id.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id = id,
    )
}

/// GET /graphql: a WebSocket upgrade for subscriptions, else a query over GET.
async fn get_or_upgrade(
    state: State<AppState>,
    headers: axum::http::HeaderMap,
    upgrade: Result<
        axum::extract::WebSocketUpgrade,
        axum::extract::ws::rejection::WebSocketUpgradeRejection,
    >,
    query: axum::extract::RawQuery,
) -> axum::response::Response {
    match upgrade {
        Ok(upgrade) => ws::upgrade(state, headers, upgrade).await,
        Err(_) => graphql::get(state, headers, query).await,
    }
}

tokio::task_local! {
    /// The id of the request being answered (`X-Request-Id`, made up when absent).
    static REQUEST_ID: String;
}

/// Answers the request with its id at hand, for the errors that name it.
async fn with_request_id(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    with_id(id, next.run(request)).await
}

/// Runs `work` with `id` as the request id its errors name. Not an `async fn`: that
/// would hold `work` twice (as its argument and inside the scope it awaits), doubling
/// the task of every WebSocket connection.
pub(crate) fn with_id<F: std::future::Future>(
    id: String,
    work: F,
) -> impl std::future::Future<Output = F::Output> {
    REQUEST_ID.scope(id, work)
}

/// The id of the request this task answers, if it answers one.
pub(crate) fn request_id() -> Option<String> {
    REQUEST_ID
        .try_with(Clone::clone)
        .ok()
        .filter(|id| !id.is_empty())
}

/// An OPTIONS request that is not a CORS preflight (no `Access-Control-Request-Method`)
/// is refused like any other method the endpoints do not answer, rather than passing as
/// an empty preflight answer.
async fn plain_options(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let preflight = request
        .headers()
        .contains_key(axum::http::header::ACCESS_CONTROL_REQUEST_METHOD);
    if request.method() == Method::OPTIONS && !preflight {
        return Refusal::new(
            ErrorCode::MethodNotAllowed,
            "use GET for queries or POST for any operation",
        )
        .into_response();
    }
    next.run(request).await
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            axum::http::header::AUTHORIZATION,
        ])
}

#[cfg(test)]
mod tests {
    /// Every WebSocket connection's task is its session's future inside `with_id`: the
    /// wrapper must hold that future once, not twice.
    #[test]
    fn with_id_holds_its_work_once() {
        let work = async {
            let held = [1u8; 2048];
            std::future::ready(()).await;
            held.iter().map(|&byte| usize::from(byte)).sum::<usize>()
        };
        let alone = std::mem::size_of_val(&work);
        let wrapped = super::with_id(String::new(), work);
        assert!(
            std::mem::size_of_val(&wrapped) < alone + 256,
            "{} bytes around a {alone}-byte future",
            std::mem::size_of_val(&wrapped)
        );
    }
}
