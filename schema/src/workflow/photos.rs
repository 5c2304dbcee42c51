//! Photos uploaded with a report: their type told by their bytes (JPEG, PNG or WebP, not
//! what the client claims), stored in the report's transaction, read back by callers
//! who see their event.

use connectors::Scope;
use sha2::{Digest, Sha256};

use super::change::Change;
use super::error::WorkflowError;
use crate::store::{Store, StoreError};

/// An uploaded photo, checked.
#[derive(Debug, Clone)]
pub struct PhotoFile {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of the bytes: what an idempotent retry is compared by.
    pub sha256: String,
}

impl PhotoFile {
    /// The photo in `bytes`, or why it is refused (`name` is the file's name, for the
    /// message).
    pub fn check(name: &str, bytes: Vec<u8>) -> Result<Self, WorkflowError> {
        let content_type = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            "image/webp"
        } else {
            return Err(WorkflowError::BadInput(format!(
                "`{name}` is not a JPEG, PNG or WebP image"
            )));
        };
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            content_type,
            bytes,
            sha256,
        })
    }
}

/// The path a stored photo is served at.
pub fn photo_path(id: i64) -> String {
    format!("/photos/{id}")
}

/// Stores uploaded photos with the event, in the change's transaction, and lists them
/// in `events.photos`.
pub(super) async fn store_photos(
    change: &mut Change<'_>,
    event_id: i64,
    files: &[PhotoFile],
) -> Result<(), WorkflowError> {
    for photo in files {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO event_photos (event_id, content_type, bytes, sha256, uploaded_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(event_id)
        .bind(photo.content_type)
        .bind(&photo.bytes)
        .bind(&photo.sha256)
        .bind(&change.actor.subject)
        .fetch_one(&mut *change.transaction)
        .await?;
        sqlx::query("UPDATE events SET photos = photos || $2 WHERE id = $1")
            .bind(event_id)
            .bind(photo_path(id))
            .execute(&mut *change.transaction)
            .await?;
    }
    Ok(())
}

impl Store {
    /// A stored photo's type and bytes, if the scope sees its event.
    pub async fn photo(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT content_type, bytes FROM event_photos WHERE id = $1 AND {}",
            super::reads::event_visible("event_photos.event_id", "$2", "$3")
        ))
        .bind(id)
        .bind(scope.prefix())
        .bind(scope.summoned())
        .fetch_optional(self.executor())
        .await?)
    }
}
