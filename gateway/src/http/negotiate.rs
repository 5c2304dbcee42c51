//! GraphQL-over-HTTP media types: what a client sends (Content-Type) and what it accepts.

use axum::http::{HeaderMap, HeaderValue, header};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: legacy clients, and clients that ask for it only.
    Json,
    /// `application/graphql-response+json`: the spec's own response type.
    GraphqlResponse,
}

impl MediaType {
    pub fn header_value(self) -> HeaderValue {
        match self {
            Self::Json => HeaderValue::from_static("application/json; charset=utf-8"),
            Self::GraphqlResponse => {
                HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
            }
        }
    }
}

/// `type/subtype` of a header value, lowercased, parameters dropped.
pub(super) fn essence(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn quality(range: &str) -> f32 {
    range
        .split(';')
        .skip(1)
        .filter_map(|param| param.trim().strip_prefix("q="))
        .find_map(|q| q.trim().parse().ok())
        .unwrap_or(1.0)
}

/// The response type for this request's `Accept`, `None` when nothing acceptable can be
/// produced. No `Accept` means `application/json`, as for legacy clients.
pub fn response_type(headers: &HeaderMap) -> Option<MediaType> {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|range| !range.is_empty())
        .collect();
    if accept.is_empty() {
        return Some(MediaType::Json);
    }
    let weight = |wanted: &[&str]| {
        accept
            .iter()
            .filter(|range| wanted.contains(&essence(range).as_str()))
            .map(|range| quality(range))
            .fold(0.0_f32, f32::max)
    };
    let graphql = weight(&["application/graphql-response+json"]);
    let json = weight(&["application/json"]);
    let any = weight(&["*/*", "application/*"]);
    if graphql > 0.0 && graphql >= json {
        Some(MediaType::GraphqlResponse)
    } else if json > 0.0 || any > 0.0 {
        // A bare wildcard gets plain JSON, which every client (curl included) reads.
        Some(MediaType::Json)
    } else {
        None
    }
}

/// Whether the client is a browser asking for a page.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| essence(range) == "text/html")
}

/// Whether a POST body is declared as JSON (`application/json`, any charset param).
pub fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| essence(value) == "application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<MediaType> {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::ACCEPT, value);
        }
        response_type(&headers)
    }

    #[test]
    fn clients_get_the_type_they_accept() {
        assert_eq!(accept(""), Some(MediaType::Json));
        assert_eq!(accept("application/json"), Some(MediaType::Json));
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(MediaType::GraphqlResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(MediaType::GraphqlResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(MediaType::Json)
        );
        assert_eq!(accept("*/*"), Some(MediaType::Json));
        assert_eq!(accept("text/html"), None);
    }
}
