//! The gateway process: configuration, HTTP serving, database set-up, background jobs
//! (the 12345 hotline sync). Thin glue over the `schema` crate (the GraphQL schema and
//! store) and the `connectors` crate.

pub mod app;
pub mod auth;
pub mod config;
pub mod database;
mod deadlines;
pub mod demo;
pub mod hotline;
mod http;
pub mod rate_limit;
mod retention;
mod signals;

pub use app::{Application, StartError, load_departments, shutdown_signal};
pub use config::Config;
