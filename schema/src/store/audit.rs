//! The audit log of personal data read in clear: appended once per request for every
//! entity it unmasked, read back page by page by administrators of the subtree.

use chrono::{DateTime, Utc};
use connectors::Scope;
use sqlx::{Postgres, QueryBuilder};

use super::lists::Page;
use super::{PageArgs, Store, StoreError};
use crate::access::Actor;

/// The personal fields one request read in clear on one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmaskedRead {
    pub entity_type: &'static str,
    pub entity_id: i64,
    pub jurisdiction_code: String,
    pub fields: Vec<String>,
}

/// One audit row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub principal: String,
    pub actor: String,
    pub actor_role: String,
    pub actor_department: Option<String>,
    pub entity_type: String,
    pub entity_id: i64,
    pub jurisdiction_code: String,
    pub fields: Vec<String>,
    pub purpose: String,
    pub request_id: Option<String>,
}

/// Which audit rows to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AuditQuery {
    pub principal: Option<String>,
    pub entity: Option<(&'static str, i64)>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

const AUDIT_COLUMNS: &str = "id, at, principal, actor, actor_role, actor_department, entity_type, \
     entity_id, jurisdiction_code, fields, purpose, request_id";

impl Store {
    /// Appends one row per read, in one statement.
    pub async fn append_audit(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        reads: &[UnmaskedRead],
    ) -> Result<(), StoreError> {
        if reads.is_empty() {
            return Ok(());
        }
        let types: Vec<&str> = reads.iter().map(|r| r.entity_type).collect();
        let ids: Vec<i64> = reads.iter().map(|r| r.entity_id).collect();
        let codes: Vec<&str> = reads.iter().map(|r| r.jurisdiction_code.as_str()).collect();
        // Arrays of arrays must be rectangular in PostgreSQL: fields travel joined.
        let fields: Vec<String> = reads.iter().map(|r| r.fields.join(",")).collect();
        sqlx::query(
            "INSERT INTO audit_log (principal, actor, actor_role, actor_department, entity_type, \
               entity_id, jurisdiction_code, fields, purpose, request_id) \
             SELECT $1, $2, $3, $4, r.entity_type, r.entity_id, r.code, string_to_array(r.fields, ','), $5, $6 \
             FROM unnest($7::text[], $8::bigint[], $9::text[], $10::text[]) \
               AS r(entity_type, entity_id, code, fields)",
        )
        .bind(&actor.subject)
        .bind(&actor.name)
        .bind(actor.role.as_str())
        .bind(&actor.department)
        .bind(actor.purpose.as_deref().unwrap_or_default())
        .bind(request_id)
        .bind(types)
        .bind(ids)
        .bind(codes)
        .bind(fields)
        .execute(self.primary())
        .await?;
        Ok(())
    }

    /// A page of audit rows of entities in the scope, by id.
    pub async fn audit_page(
        &self,
        scope: &Scope,
        query: &AuditQuery,
        page: PageArgs,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let mut builder =
            QueryBuilder::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE TRUE"));
        push_audit_query(&mut builder, scope, query);
        if let Some(after) = page.after {
            builder.push(" AND id > ").push_bind(after);
        }
        if let Some(before) = page.before {
            builder.push(" AND id < ").push_bind(before);
        }
        let direction = if page.from_end { "DESC" } else { "ASC" };
        builder
            .push(format_args!(" ORDER BY id {direction} LIMIT "))
            .push_bind(page.limit + 1);
        let rows = builder.build_query_as().fetch_all(self.executor()).await?;
        Ok(Page::from_rows(rows, page.limit, page.from_end))
    }

    pub async fn count_audit(&self, scope: &Scope, query: &AuditQuery) -> Result<i64, StoreError> {
        let mut builder = QueryBuilder::new("SELECT count(*) FROM audit_log WHERE TRUE");
        push_audit_query(&mut builder, scope, query);
        Ok(builder
            .build_query_scalar()
            .fetch_one(self.executor())
            .await?)
    }
}

fn push_audit_query(builder: &mut QueryBuilder<'_, Postgres>, scope: &Scope, query: &AuditQuery) {
    let prefix = scope.prefix();
    if !prefix.is_empty() {
        builder
            .push(" AND jurisdiction_code >= ")
            .push_bind(prefix.to_owned())
            .push(" AND jurisdiction_code < ")
            .push_bind(format!("{prefix}~"));
    }
    if let Some(principal) = &query.principal {
        builder
            .push(" AND principal = ")
            .push_bind(principal.clone());
    }
    if let Some((entity_type, id)) = query.entity {
        builder
            .push(" AND entity_type = ")
            .push_bind(entity_type)
            .push(" AND entity_id = ")
            .push_bind(id);
    }
    if let Some(from) = query.from {
        builder.push(" AND at >= ").push_bind(from);
    }
    if let Some(until) = query.until {
        builder.push(" AND at < ").push_bind(until);
    }
}
