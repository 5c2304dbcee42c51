//! What resolvers share: reaching the request's loaders and store, loading by key, and
//! turning store failures into the client's error vocabulary (logged once, here).

use async_graphql::{Context, ErrorExtensions, Result};

use super::loaders::{LoadError, Loaded, Loaders, RequestLoaders};
use crate::error::{ApiError, ErrorCode};
use crate::model::{Department, Jurisdiction};
use crate::store::{Store, StoreError};

pub fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    ctx.data::<RequestLoaders>()
        .map(RequestLoaders::get)
        .map_err(|_| internal("request data missing: loaders"))
}

/// The caller's scope (building no loaders: subscriptions need only this).
pub fn scope<'a>(ctx: &Context<'a>) -> Result<&'a connectors::Scope> {
    ctx.data::<RequestLoaders>()
        .map(RequestLoaders::scope)
        .map_err(|_| internal("request data missing: loaders"))
}

pub fn store<'a>(ctx: &Context<'a>) -> Result<&'a Store> {
    ctx.data::<Store>()
        .map_err(|_| internal("schema data missing: store"))
}

fn internal(detail: &str) -> async_graphql::Error {
    tracing::error!(detail, "gateway fault");
    ApiError::new(ErrorCode::Internal, "internal error").extend()
}

/// A store failure as the client sees it; the detail goes to the log only.
pub fn store_error(error: impl AsRef<StoreError>) -> async_graphql::Error {
    let error = error.as_ref();
    match error {
        StoreError::Unavailable(_) => {
            tracing::warn!(error = %error, "database unavailable");
            let message = if error.is_busy() {
                "the platform database is busy right now; retry shortly"
            } else {
                "the platform database is unreachable right now; retry shortly"
            };
            ApiError::new(ErrorCode::DatabaseUnavailable, message).extend()
        }
        StoreError::Query(_) => {
            tracing::error!(error = %error, "database query failed");
            ApiError::new(ErrorCode::Internal, "internal error").extend()
        }
        StoreError::Unstorable(message) => ApiError::bad_input(*message).extend(),
    }
}

impl AsRef<StoreError> for StoreError {
    fn as_ref(&self) -> &StoreError {
        self
    }
}

pub async fn jurisdiction(ctx: &Context<'_>, code: &str) -> Result<Option<Jurisdiction>> {
    loaders(ctx)?
        .jurisdictions
        .load_one(code.to_owned())
        .await
        .map_err(|e: LoadError| store_error(e))
}

pub async fn entity<E: Loaded>(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<E>> {
    let Some(id) = id else { return Ok(None) };
    E::loaders(loaders(ctx)?)
        .by_id
        .load_one(id)
        .await
        .map_err(store_error)
}

pub async fn department(ctx: &Context<'_>, code: &str) -> Result<Option<Department>> {
    loaders(ctx)?
        .departments
        .load_one(code.to_owned())
        .await
        .map_err(store_error)
}

/// The grid a record is filed under, when it is filed under a grid.
pub async fn grid(ctx: &Context<'_>, code: &str) -> Result<Option<Jurisdiction>> {
    Ok(jurisdiction(ctx, code)
        .await?
        .filter(|j| j.level == crate::enums::JurisdictionLevel::Grid))
}
