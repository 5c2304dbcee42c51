//! Persisted documents. Automatic persisted queries: a client sends the SHA-256 of its
//! document (`extensions.persistedQuery.sha256Hash`) and the document itself only when
//! the gateway has not seen it; documents are kept in Redis, shared by the replicas, and
//! in each replica's memory. Trusted documents: a manifest of the operations the
//! frontends' build registered (Apollo's persisted-query manifest, or Relay's
//! `{ id: text }` map). With `persisted.trusted_only`, nothing else runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use connectors::redis_link::{REDIS_TIMEOUT, RedisLink};
use redis::AsyncCommands;
use schema::error::ErrorCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::Refusal;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PersistedConfig {
    /// Accept automatic persisted queries.
    pub automatic: bool,
    /// How long an automatically persisted document is kept in Redis, in seconds.
    pub automatic_ttl_s: u64,
    /// The trusted documents' manifest (Apollo's or Relay's format).
    pub manifest: Option<PathBuf>,
    /// Run only the manifest's documents; any other is refused.
    pub trusted_only: bool,
}

impl Default for PersistedConfig {
    fn default() -> Self {
        Self {
            automatic: true,
            automatic_ttl_s: 86_400,
            manifest: None,
            trusted_only: false,
        }
    }
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the persisted documents' manifest {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("persisted.trusted_only needs persisted.manifest")]
    NoManifest,
}

/// The manifest formats frontends' builds emit.
#[derive(Deserialize)]
#[serde(untagged)]
enum Manifest {
    Apollo { operations: Vec<ApolloOperation> },
    Relay(HashMap<String, String>),
}

#[derive(Deserialize)]
struct ApolloOperation {
    id: String,
    body: String,
}

/// Most documents a replica keeps in memory from automatic persisting.
const LOCAL_LIMIT: usize = 10_000;

pub struct PersistedDocuments {
    config: PersistedConfig,
    trusted: HashMap<String, String>,
    redis: Option<RedisLink>,
    prefix: String,
    local: Mutex<HashMap<String, String>>,
}

/// How a request names its document.
struct Named<'a> {
    pub query: Option<&'a str>,
    /// `documentId` (GraphQL-over-HTTP persisted documents) or
    /// `extensions.persistedQuery.sha256Hash` (automatic persisted queries).
    pub id: Option<&'a str>,
}

impl PersistedDocuments {
    pub fn new(
        config: &PersistedConfig,
        redis: Option<redis::Client>,
        prefix: &str,
    ) -> Result<Self, ManifestError> {
        let trusted = match &config.manifest {
            Some(path) => read_manifest(path)?,
            None if config.trusted_only => return Err(ManifestError::NoManifest),
            None => HashMap::new(),
        };
        Ok(Self {
            config: config.clone(),
            trusted,
            redis: redis.map(|client| RedisLink::new(client, "persisted documents")),
            prefix: format!("{prefix}apq:"),
            local: Mutex::new(HashMap::new()),
        })
    }

    /// The document a request runs in place of its `query`: the one a persisted id
    /// (`documentId`, or `extensions.persistedQuery.sha256Hash`) names; `None` when the
    /// request names none and free documents may run, so that its `query` runs as sent.
    pub async fn resolve(
        &self,
        query: Option<&str>,
        document_id: Option<&str>,
        extensions: Option<&serde_json::Value>,
    ) -> Result<Option<String>, Refusal> {
        let id = document_id.or_else(|| {
            extensions?
                .get("persistedQuery")?
                .get("sha256Hash")?
                .as_str()
        });
        if id.is_none() && !self.config.trusted_only {
            return Ok(None);
        }
        let query = query.filter(|q| !q.trim().is_empty());
        self.document(Named { query, id }).await.map(Some)
    }

    /// The document text a request runs: the one it sent, or the one its id names.
    async fn document(&self, named: Named<'_>) -> Result<String, Refusal> {
        if let Some(id) = named.id
            && let Some(body) = self.trusted.get(id)
        {
            return Ok(body.clone());
        }
        if self.config.trusted_only {
            return Err(match named.id {
                Some(_) => Refusal::new(
                    ErrorCode::PersistedQueryNotFound,
                    "PersistedQueryNotFound: this gateway runs only registered documents, \
                     and this id is not one of them",
                ),
                None => Refusal::new(
                    ErrorCode::PersistedQueryRequired,
                    "this gateway runs only registered documents: send `documentId` (or \
                     `extensions.persistedQuery.sha256Hash`) instead of `query`",
                ),
            });
        }
        match (named.query, named.id) {
            (Some(query), None) => Ok(query.to_owned()),
            (None, None) => Err(Refusal::new(
                ErrorCode::BadRequest,
                "the request has no `query`",
            )),
            (_, Some(_)) if !self.config.automatic => Err(Refusal::new(
                ErrorCode::PersistedQueryNotSupported,
                "PersistedQueryNotSupported: send the document as `query`",
            )),
            (Some(query), Some(id)) => {
                if sha256(query) != id.to_ascii_lowercase() {
                    return Err(Refusal::new(
                        ErrorCode::BadRequest,
                        "the persisted query's sha256Hash is not the hash of its `query`",
                    ));
                }
                self.remember(id, query).await;
                Ok(query.to_owned())
            }
            (None, Some(id)) => self.recall(id).await.ok_or_else(|| {
                Refusal::new(ErrorCode::PersistedQueryNotFound, "PersistedQueryNotFound")
            }),
        }
    }

    async fn remember(&self, id: &str, query: &str) {
        {
            let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
            if local.len() >= LOCAL_LIMIT {
                local.clear();
            }
            local.insert(id.to_owned(), query.to_owned());
        }
        let Some(mut connection) = self.connection().await else {
            return;
        };
        let ttl = self.config.automatic_ttl_s.max(1);
        let write = connection.set_ex::<_, _, ()>(self.key(id), query, ttl);
        if !matches!(tokio::time::timeout(REDIS_TIMEOUT, write).await, Ok(Ok(()))) {
            tracing::warn!("persisted document not stored in Redis; kept on this replica");
        }
    }

    async fn recall(&self, id: &str) -> Option<String> {
        let local = self
            .local
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        if local.is_some() {
            return local;
        }
        let mut connection = self.connection().await?;
        let read = connection.get::<_, Option<String>>(self.key(id));
        let found = match tokio::time::timeout(REDIS_TIMEOUT, read).await {
            Ok(Ok(found)) => found,
            _ => None,
        };
        // A document stored under another hash is not this one.
        found.filter(|query| sha256(query) == id.to_ascii_lowercase())
    }

    async fn connection(&self) -> Option<redis::aio::ConnectionManager> {
        self.redis.as_ref()?.connection().await
    }

    fn key(&self, id: &str) -> String {
        format!("{}{}", self.prefix, id.to_ascii_lowercase())
    }
}

/// The lowercase hex SHA-256 of a document's text, as clients compute it.
pub fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn read_manifest(path: &Path) -> Result<HashMap<String, String>, ManifestError> {
    let failed = |reason: String| ManifestError::Read {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?;
    Ok(match manifest {
        Manifest::Apollo { operations } => operations
            .into_iter()
            .map(|operation| (operation.id, operation.body))
            .collect(),
        Manifest::Relay(documents) => documents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_what_clients_compute() {
        assert_eq!(
            sha256("{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
    }
}
