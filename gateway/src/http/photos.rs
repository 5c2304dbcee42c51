//! `GET /photos/{id}`: a photo uploaded with a report, to callers who see its event (the
//! same bearer token and scope as `/graphql`); anyone else gets 404, as if it did not
//! exist.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use schema::error::ErrorCode;

use super::AppState;
use super::error::Refusal;
use super::graphql::unauthenticated;

pub async fn serve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let caller = match state.auth.from_headers(&headers).await {
        Ok(caller) => caller,
        Err(error) => {
            return unauthenticated(error).into_response();
        }
    };
    let missing = || Refusal::new(ErrorCode::NotFound, "no such photo").into_response();
    let Ok(id) = id.parse::<i64>() else {
        return missing();
    };
    match state.store.photo(&caller.scope, id).await {
        Ok(Some((content_type, bytes))) => {
            let content_type = HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("private, max-age=3600"),
                    ),
                    (
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => missing(),
        Err(error) => {
            tracing::warn!(%error, "reading a photo failed");
            Refusal::new(
                ErrorCode::DatabaseUnavailable,
                "the photo cannot be read right now",
            )
            .into_response()
        }
    }
}
