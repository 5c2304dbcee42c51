//! GraphiQL, with its scripts and styles built into the binary: the page works on a
//! government intranet with no route to a CDN. The files are graphiql 3.9.0 and React
//! 18.3.1 from the npm registry, unmodified (licenses beside them in `assets/graphiql/`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::error::Refusal;
use schema::error::ErrorCode;

const PAGE: &str = include_str!("../../assets/graphiql/index.html");

const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// A token offered in the page's role picker.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoleToken {
    pub role: &'static str,
    /// Who holds it, for people: 「调度员 李强 · 白泉镇」.
    pub label: String,
    pub token: String,
}

/// The page; with `tokens` (the demo's), a role picker that sends the chosen role's
/// token and a purpose with every request.
pub fn page(tokens: &[RoleToken]) -> String {
    let json = if tokens.is_empty() {
        "null".to_owned()
    } else {
        // Inside a <script>: no `<` may close it early.
        serde_json::to_string(tokens)
            .unwrap_or_else(|_| "null".to_owned())
            .replace('<', "\\u003c")
    };
    PAGE.replace("/*DEMO_TOKENS*/null", &json)
}

pub async fn serve(State(state): State<AppState>) -> Html<String> {
    Html(state.graphiql.clone())
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, bytes)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => Refusal::new(
            ErrorCode::NotFound,
            format!("no GraphiQL asset named `{name}`"),
        )
        .into_response(),
    }
}
