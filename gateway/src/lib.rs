//! The gateway process: configuration, HTTP serving, database set-up, background jobs
//! (the 12345 hotline sync, the departments' change feeds). Thin glue over the `schema` crate (the GraphQL schema and
//! store) and the `connectors` crate.
//!
//! With the `simulation` feature (on by default, off in a production build), `seeding`
//! and `demo` run the simulated city of the `simulation` crate.

pub mod app;
pub mod auth;
pub mod config;
pub mod console;
pub mod database;
mod deadlines;
#[cfg(feature = "simulation")]
pub mod demo;
pub mod feeds;
pub mod hotline;
mod http;
pub mod metrics;
mod periodic;
pub mod rate_limit;
mod replica;
mod retention;
#[cfg(feature = "simulation")]
pub mod seeding;
mod signals;
pub mod telemetry;
mod writeback;

pub use app::{Application, StartError, load_departments, shutdown_signal};
pub use config::Config;
pub use http::RoleToken;
