//! Rows for bulk export, streamed from PostgreSQL in batches: the `bi` views' columns
//! (no personal data), narrowed by an event filter and the caller's scope, in id order.

use connectors::Scope;
use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder, Row};
use tokio::sync::mpsc;

use super::lists::{Condition, push_conditions};
use super::map::event_geometry;
use super::{Store, StoreError};
use crate::model::Event;

/// What can be exported row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Events,
    Summonses,
    Timeline,
}

impl Dataset {
    /// The columns, in order (the CSV header, the NDJSON keys).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Events => &[
                "id",
                "title",
                "category",
                "channel",
                "urgency",
                "status",
                "tier",
                "resolution_tier",
                "jurisdiction_code",
                "county_code",
                "township_code",
                "community_code",
                "handling_code",
                "reported_at",
                "accepted_at",
                "due_at",
                "resolved_at",
                "closed_at",
                "overdue_at",
                "satisfaction",
                "reworks",
                "accepted",
                "resolved",
                "closed",
                "overdue",
                "satisfied",
                "reworked",
                "handling_hours",
            ],
            Self::Summonses => &[
                "id",
                "event_id",
                "whistle_id",
                "department_code",
                "team_grid",
                "staff_id",
                "status",
                "jurisdiction_code",
                "county_code",
                "township_code",
                "report_in_due_at",
                "handling_due_at",
                "reported_in_at",
                "done_at",
                "overdue_marks",
                "urges",
                "extensions",
                "report_due",
                "reported_in",
                "reported_in_on_time",
                "declined",
                "overdue",
            ],
            Self::Timeline => &[
                "id",
                "event_id",
                "summons_id",
                "kind",
                "actor_role",
                "actor_department",
                "department_code",
                "jurisdiction_code",
                "state_before",
                "state_after",
                "at",
            ],
        }
    }

    /// The view and the alias its rows go by (events are always `t`, for the filter).
    fn source(self) -> &'static str {
        match self {
            Self::Events => "bi.events t",
            Self::Summonses => "bi.summonses x JOIN bi.events t ON t.id = x.event_id",
            Self::Timeline => "bi.timeline x JOIN bi.events t ON t.id = x.event_id",
        }
    }

    fn alias(self) -> &'static str {
        match self {
            Self::Events => "t",
            Self::Summonses | Self::Timeline => "x",
        }
    }
}

/// Rows per batch sent to the writer.
const BATCH: usize = 500;

impl Store {
    /// Sends the rows of `dataset` for the events the conditions select, each a JSON array
    /// of [`Dataset::columns`], in batches to `rows` as they arrive from the database;
    /// with `geometry`, each row ends with its event's position as a GeoJSON geometry.
    /// Stops early, without error, when the receiver is dropped (the client went away).
    pub async fn export(
        &self,
        scope: &Scope,
        dataset: Dataset,
        conditions: &[Condition],
        geometry: bool,
        rows: mpsc::Sender<Vec<Value>>,
    ) -> Result<(), StoreError> {
        let alias = dataset.alias();
        let mut columns: Vec<String> = dataset
            .columns()
            .iter()
            .map(|column| format!("{alias}.{column}"))
            .collect();
        if geometry {
            columns.push(event_geometry());
        }
        let mut builder = QueryBuilder::<Postgres>::new(format!(
            "SELECT json_build_array({})::text FROM {} WHERE TRUE",
            columns.join(", "),
            dataset.source()
        ));
        push_conditions::<Event>(&mut builder, scope, &[], conditions);
        if dataset == Dataset::Summonses
            && let Some(department) = scope.summoned()
        {
            builder
                .push(" AND x.department_code = ")
                .push_bind(department.to_owned());
        }
        builder.push(format_args!(" ORDER BY {alias}.id"));

        let query = builder.build();
        let mut stream = query.fetch(self.executor());
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(row) = stream.try_next().await? {
            let text: String = row.try_get(0)?;
            let value = serde_json::from_str(&text)
                .map_err(|error| StoreError::Query(sqlx::Error::Decode(Box::new(error))))?;
            batch.push(value);
            if batch.len() == BATCH
                && rows
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .await
                    .is_err()
            {
                return Ok(());
            }
        }
        if !batch.is_empty() {
            let _ = rows.send(batch).await;
        }
        Ok(())
    }
}
