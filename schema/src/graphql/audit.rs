//! Personal data in clear, and its audit trail. A resolver of a personal field asks
//! [`personal`]: the value comes in clear only when the actor's role may see that field
//! and the request stated a purpose, and every such read is noted in the request's
//! [`AuditTrail`]. [`audited`] appends the trail to the audit log when
//! the request (or each result of a subscription) is done — one row per entity read — and
//! withholds the answer when the log cannot be written. `auditLog` reads it back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, Pos, Response, Result};
use chrono::{DateTime, Utc};

use super::connection::{IdCursor, ListTotal, Paging, Total, page_flags};
use super::ids::{self, NodeType};
use super::resolve::{self, store_error};
use crate::access::{Actor, Operation, PersonalField};
use crate::error::{ApiError, ErrorCode};
use crate::store::{AuditEntry, AuditQuery, Store, UnmaskedRead};

/// An entity whose personal data was read: its type and id.
type Entity = (NodeType, i64);

/// Where an entity is filed, and the personal fields read of it.
type Read = (String, Vec<String>);

/// The personal fields a request read in clear, by entity, and who read them; drained
/// into the audit log.
#[derive(Debug, Default)]
pub struct AuditTrail {
    request_id: Option<String>,
    /// The reader, noted with the first read (most requests read nothing in clear).
    reader: OnceLock<Actor>,
    reads: Mutex<BTreeMap<Entity, Read>>,
}

impl AuditTrail {
    /// The trail of one request (its `X-Request-Id`, recorded on every row).
    pub fn new(request_id: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            request_id,
            reader: OnceLock::new(),
            reads: Mutex::default(),
        })
    }

    fn record(&self, reader: &Actor, entity: NodeType, id: i64, jurisdiction: &str, field: String) {
        self.reader.get_or_init(|| reader.clone());
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        let (_, fields) = reads
            .entry((entity, id))
            .or_insert_with(|| (jurisdiction.to_owned(), Vec::new()));
        if !fields.contains(&field) {
            fields.push(field);
        }
    }

    fn take(&self) -> Vec<UnmaskedRead> {
        let reads = std::mem::take(&mut *self.reads.lock().unwrap_or_else(|p| p.into_inner()));
        reads
            .into_iter()
            .map(|((entity, id), (jurisdiction, fields))| UnmaskedRead {
                entity_type: entity.as_str(),
                entity_id: id,
                jurisdiction_code: jurisdiction,
                fields,
            })
            .collect()
    }
}

/// What a personal field of an entity resolves to: in clear, noted in the trail, when
/// the actor sees `field`; masked otherwise.
pub struct Personal<'a> {
    pub field: PersonalField,
    /// The GraphQL field recorded in the audit row (`phone`,
    /// `householdRegistration.idNumber`).
    pub name: String,
    pub entity: NodeType,
    pub id: i64,
    pub jurisdiction: &'a str,
}

/// Whether the caller reads `personal` in clear; when it does, the read is noted.
pub fn unmasked(ctx: &Context<'_>, personal: Personal<'_>) -> bool {
    let Some(actor) = ctx.data_opt::<Actor>() else {
        return false;
    };
    if !actor.sees(personal.field) {
        return false;
    }
    match ctx.data_opt::<Arc<AuditTrail>>() {
        Some(trail) => {
            trail.record(
                actor,
                personal.entity,
                personal.id,
                personal.jurisdiction,
                personal.name,
            );
            true
        }
        // Without a trail to note it in, nothing is shown in clear.
        None => false,
    }
}

/// Appends what the response read in clear; a response whose reads cannot be audited is
/// replaced by an error.
pub(super) async fn audited(store: &Store, trail: &AuditTrail, response: Response) -> Response {
    let reads = trail.take();
    let Some(reader) = trail.reader.get().filter(|_| !reads.is_empty()) else {
        return response;
    };
    match store
        .append_audit(reader, trail.request_id.as_deref(), &reads)
        .await
    {
        Ok(()) => response,
        Err(error) => {
            tracing::warn!(%error, "audit log not written: personal data withheld");
            let error = ApiError::new(
                ErrorCode::DatabaseUnavailable,
                "personal data was withheld: its reading could not be audited; retry shortly",
            )
            .extend()
            .into_server_error(Pos::default());
            Response::from_errors(vec![error])
        }
    }
}

/// Who read whose personal data, when, why.
pub struct AuditLogEntry(AuditEntry);

#[Object]
impl AuditLogEntry {
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The reader's stable id (the token's `sub`).
    async fn principal(&self) -> &str {
        &self.0.principal
    }

    async fn actor(&self) -> super::workflow::TimelineActor {
        super::workflow::TimelineActor {
            name: self.0.actor.clone(),
            role: self.0.actor_role.clone(),
            department_code: self.0.actor_department.clone(),
        }
    }

    /// The global id of the entity read.
    async fn entity_id(&self) -> ID {
        let node_type = ids::NodeType::parse(&self.0.entity_type).unwrap_or(NodeType::Person);
        ids::encode(node_type, self.0.entity_id)
    }

    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }

    async fn jurisdiction_code(&self) -> &str {
        &self.0.jurisdiction_code
    }

    /// The fields read in clear.
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }

    /// The purpose the request stated.
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }

    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

/// Which audit rows to list.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Rows of one reader (the token's `sub`).
    pub principal: Option<String>,
    /// Rows about one entity, by its global id.
    pub entity_id: Option<ID>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The audit entries of the caller's subtree; administrators only.
pub async fn audit_log(
    ctx: &Context<'_>,
    filter: Option<AuditLogFilter>,
    paging: Paging,
) -> Result<Connection<IdCursor, AuditLogEntry, ListTotal>> {
    let actor = ctx
        .data::<Actor>()
        .map_err(|_| ApiError::new(ErrorCode::Internal, "internal error").extend())?;
    actor
        .may(Operation::ReadAuditLog)
        .map_err(|reason| ApiError::new(ErrorCode::Forbidden, reason).extend())?;
    let filter = filter.unwrap_or_default();
    let entity = match &filter.entity_id {
        Some(id) => {
            let (node_type, key) = ids::decode(id)?;
            Some((node_type.as_str(), ids::numeric_key(id, &key)?))
        }
        None => None,
    };
    let query = AuditQuery {
        principal: filter.principal,
        entity,
        from: filter.from,
        until: filter.until,
    };
    let page = paging.id_page()?;
    let rows = resolve::store(ctx)?
        .audit_page(resolve::scope(ctx)?, &query, page)
        .await
        .map_err(store_error)?;
    let (has_previous, has_next) = page_flags(
        rows.more,
        page.from_end,
        page.after.is_some(),
        page.before.is_some(),
    );
    let mut connection = Connection::with_additional_fields(
        has_previous,
        has_next,
        ListTotal::new(Total::AuditLog(query)),
    );
    connection.edges.extend(
        rows.rows
            .into_iter()
            .map(|row| Edge::new(IdCursor(row.id), AuditLogEntry(row))),
    );
    Ok(connection)
}
