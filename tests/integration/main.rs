//! Cross-crate tests: each starts the gateway on a random port against a fresh database
//! of its own (copied from a migrated, seeded template) and talks to it over real HTTP.

mod access;
mod auth;
mod batching;
mod board;
mod closing_the_loop;
mod collection;
mod conformance;
mod departments;
mod disputes;
mod docker;
mod federation;
mod feeds;
mod fuzz;
mod helpers;
mod hotline;
mod http_protocol;
mod kaohe;
mod layering;
mod map;
mod metrics;
mod persisted;
mod photos;
mod queries;
mod rate_limit;
mod replica;
mod resilience;
mod rows;
mod scope;
mod seed;
mod shutdown;
mod subscriptions;
mod workflow;
