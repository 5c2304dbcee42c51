//! Pages and their files, built into the binary: they work on a government intranet with
//! no route to a CDN.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schema::error::ErrorCode;

use super::error::Refusal;

/// A file a page loads, by name.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// The asset named `name` of `assets`, cached for a day, or NOT_FOUND naming `what`.
pub fn serve(assets: &[Asset], name: &str, what: &str) -> Response {
    match assets.iter().find(|asset| asset.name == name) {
        Some(asset) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            asset.bytes,
        )
            .into_response(),
        None => {
            Refusal::new(ErrorCode::NotFound, format!("no {what} named `{name}`")).into_response()
        }
    }
}

/// A token offered in a page's role picker.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoleToken {
    pub role: &'static str,
    /// Who holds it, for people: 「调度员 李强 · 白泉镇」.
    pub label: String,
    pub token: String,
}

/// `page` with the demo's tokens (none: `null`) in place of `/*DEMO_TOKENS*/null`.
pub fn with_tokens(page: &str, tokens: &[RoleToken]) -> String {
    let json = if tokens.is_empty() {
        "null".to_owned()
    } else {
        // Inside a <script>: no `<` may close it early.
        serde_json::to_string(tokens)
            .unwrap_or_else(|_| "null".to_owned())
            .replace('<', "\\u003c")
    };
    page.replace("/*DEMO_TOKENS*/null", &json)
}
