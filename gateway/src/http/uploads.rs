//! GraphQL multipart requests (the `graphql-multipart-request-spec` that Apollo Upload
//! Client and others send): the operation in an `operations` part, files in their own
//! parts, mapped onto `Upload` variables. Each file is at most `limits.max_photo_bytes`,
//! at most `limits.max_photos` of them.
//!
//! `multipart/form-data` is a type browsers send across origins without a preflight, so
//! such a request must carry `GraphQL-Require-Preflight`, `Apollo-Require-Preflight` or
//! `X-Apollo-Operation-Name` (any value), which a form cannot: no cross-site forgery.

use async_graphql::ParseRequestError;
use async_graphql::http::MultipartOptions;
use axum::body::Body;
use axum::http::{HeaderMap, header};
use schema::error::ErrorCode;

use super::error::Refusal;
use super::graphql::{GraphqlRequest, read_body};
use super::negotiate::essence;
use crate::config::LimitsConfig;

const PREFLIGHT_HEADERS: [&str; 3] = [
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
];

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
}

pub fn is_multipart(headers: &HeaderMap) -> bool {
    content_type(headers).is_some_and(|value| essence(value) == "multipart/form-data")
}

/// The request a multipart body carries, its files attached.
pub async fn receive(
    limits: &LimitsConfig,
    headers: &HeaderMap,
    body: Body,
) -> Result<GraphqlRequest, Refusal> {
    let preflighted = PREFLIGHT_HEADERS.iter().any(|name| {
        headers
            .get(*name)
            .is_some_and(|value| !value.as_bytes().is_empty())
    });
    if !preflighted {
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            "a multipart request must carry the header `GraphQL-Require-Preflight` \
             (or `Apollo-Require-Preflight`), which cross-site forms cannot send",
        ));
    }
    let limit = limits
        .max_body_bytes
        .saturating_add(limits.max_photos.saturating_mul(limits.max_photo_bytes));
    let bytes = read_body(body, limit).await?;
    let options = MultipartOptions::default()
        .max_file_size(limits.max_photo_bytes)
        .max_num_files(limits.max_photos);
    let request = async_graphql::http::receive_body(
        content_type(headers),
        futures_util::io::Cursor::new(bytes),
        options,
    )
    .await
    .map_err(|error| match error {
        ParseRequestError::PayloadTooLarge => Refusal::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "a file is larger than {} bytes, or there are more than {} files",
                limits.max_photo_bytes, limits.max_photos
            ),
        ),
        other => Refusal::new(
            ErrorCode::BadRequest,
            format!("the multipart request cannot be read: {other}"),
        ),
    })?;
    Ok(GraphqlRequest {
        query: Some(request.query),
        operation_name: request.operation_name,
        variables: serde_json::to_value(&request.variables).ok(),
        document_id: None,
        extensions: serde_json::to_value(&request.extensions).ok(),
        uploads: request.uploads,
    })
}
