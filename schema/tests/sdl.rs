//! The committed `schema.graphql` is the schema the code serves, so every change to the
//! API shows in review. After an intended change: `UPDATE_SCHEMA=1 cargo test -p schema --test sdl`.

use schema::{QueryLimits, Store, build_schema};

#[tokio::test]
async fn the_committed_schema_graphql_matches_the_code() {
    // The schema is built without touching the database.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://127.0.0.1/unused")
        .expect("a lazy pool");
    let federation = std::sync::Arc::new(connectors::Federation::empty());
    let sdl = build_schema(Store::new(pool), federation, QueryLimits::default()).sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "schema.graphql differs from the schema the code builds; if the change is intended, \
         run `UPDATE_SCHEMA=1 cargo test -p schema --test sdl` and review the diff"
    );
}
