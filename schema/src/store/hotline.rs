//! The 12345 hotline's side of the store: events made from its service requests, which
//! request each came from, and what the hotline was last told of its status. Up to when
//! requests have been pulled is the system's sync cursor (see `sync`). The sync itself
//! (`gateway`'s hotline job) calls these.
//!
//! These run for the platform itself, not for a caller: they take no scope.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::enums::{EventCategory, EventChannel, EventStatus, Urgency};

/// An event to make from a service request.
#[derive(Debug, Clone)]
pub struct NewHotlineEvent {
    pub system_code: String,
    pub service_request_id: String,
    pub service_code: String,
    pub title: String,
    pub description: String,
    pub category: EventCategory,
    pub jurisdiction_code: String,
    /// Matched against the places of the jurisdiction to find the event's place.
    pub address: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
}

/// A hotline event whose status has changed since the hotline last heard of it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HotlineStatusChange {
    pub service_request_id: String,
    pub event_id: i64,
    pub status: EventStatus,
    pub pushed_status: EventStatus,
}

impl Store {
    /// Which of `ids` already have their event.
    pub async fn known_hotline_requests(
        &self,
        system: &str,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT service_request_id FROM hotline_requests \
             WHERE system_code = $1 AND service_request_id = ANY($2)",
        )
        .bind(system)
        .bind(ids)
        .fetch_all(self.executor())
        .await?)
    }

    /// Which of `codes` are jurisdictions of the city.
    pub async fn known_jurisdictions(&self, codes: &[String]) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT code FROM jurisdictions WHERE code = ANY($1)")
                .bind(codes)
                .fetch_all(self.executor())
                .await?,
        )
    }

    /// Makes the event of a service request, status REPORTED, channel HOTLINE_12345, and
    /// records where it came from, in one transaction. `None` when the request already
    /// has its event (pulled by another replica meanwhile): the unique key on the request
    /// decides, and the loser's event is rolled back with its transaction.
    pub async fn insert_hotline_event(
        &self,
        new: &NewHotlineEvent,
    ) -> Result<Option<i64>, StoreError> {
        let mut transaction = self.executor().begin().await?;
        self.count_statement();
        let event_id: i64 = sqlx::query_scalar(
            "INSERT INTO events (title, description, category, channel, urgency, status, \
                                 place_id, jurisdiction_code, reported_at, updated_at, due_at) \
             VALUES ($1, $2, $3, $4, $5, $6, \
                     (SELECT id FROM places WHERE jurisdiction_code = $7 AND address = $8 \
                      ORDER BY id LIMIT 1), \
                     $7, $9, now(), $10) \
             RETURNING id",
        )
        .bind(&new.title)
        .bind(&new.description)
        .bind(new.category)
        .bind(EventChannel::Hotline12345)
        .bind(Urgency::Normal)
        .bind(EventStatus::Reported)
        .bind(&new.jurisdiction_code)
        .bind(&new.address)
        .bind(new.reported_at)
        .bind(new.due_at)
        .fetch_one(&mut *transaction)
        .await?;
        self.count_statement();
        let claimed: Option<i64> = sqlx::query_scalar(
            "INSERT INTO hotline_requests \
                 (system_code, service_request_id, event_id, service_code, pushed_status) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (system_code, service_request_id) DO NOTHING \
             RETURNING event_id",
        )
        .bind(&new.system_code)
        .bind(&new.service_request_id)
        .bind(event_id)
        .bind(&new.service_code)
        .bind(EventStatus::Reported)
        .fetch_optional(&mut *transaction)
        .await?;
        if claimed.is_none() {
            transaction.rollback().await?;
            return Ok(None);
        }
        let system = crate::access::Actor::system(&new.system_code, crate::access::Role::Hotline);
        let detail = serde_json::json!({
            "channel": EventChannel::Hotline12345.as_str(),
            "serviceRequestId": new.service_request_id,
        });
        crate::workflow::record_reported(
            &mut transaction,
            &system,
            event_id,
            &new.jurisdiction_code,
            detail,
        )
        .await?;
        self.count_statement();
        transaction.commit().await?;
        self.order_committed().await;
        Ok(claimed)
    }

    /// The system's events whose status differs from what the hotline last heard, oldest
    /// event first, at most `limit`.
    pub async fn hotline_status_changes(
        &self,
        system: &str,
        limit: i64,
    ) -> Result<Vec<HotlineStatusChange>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT h.service_request_id, h.event_id, e.status, h.pushed_status \
             FROM hotline_requests h JOIN events e ON e.id = h.event_id \
             WHERE h.system_code = $1 AND e.status <> h.pushed_status \
             ORDER BY h.event_id LIMIT $2",
        )
        .bind(system)
        .bind(limit)
        .fetch_all(self.executor())
        .await?)
    }

    /// Records that the hotline was told `status`, unless someone else recorded a push
    /// since `previous` was read; says whether it did.
    pub async fn mark_hotline_pushed(
        &self,
        system: &str,
        service_request_id: &str,
        previous: EventStatus,
        status: EventStatus,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE hotline_requests SET pushed_status = $4, pushed_at = now() \
             WHERE system_code = $1 AND service_request_id = $2 AND pushed_status = $3",
        )
        .bind(system)
        .bind(service_request_id)
        .bind(previous)
        .bind(status)
        .execute(self.executor())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
