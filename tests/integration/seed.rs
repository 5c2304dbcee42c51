//! The synthetic data set: deterministic, and refused over existing data.

use simulation::seed::{self, Scale, SeedError, SeedOptions};
use sqlx::PgPool;

use crate::helpers::migrated_database;

const TABLES: [&str; 11] = [
    "jurisdictions",
    "departments",
    "places",
    "persons",
    "things",
    "organizations",
    "organization_members",
    "entity_links",
    "events",
    "event_parties",
    "event_links",
];

/// A digest of every row of every seeded table.
async fn fingerprint(pool: &PgPool) -> Vec<String> {
    let mut digests = Vec::new();
    for table in TABLES {
        let digest: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .expect("digest query");
        digests.push(format!("{table}:{}", digest.unwrap_or_default()));
    }
    digests
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    let options = SeedOptions {
        scale: Scale::Small,
        seed: 7,
    };
    let (_, first) = migrated_database().await;
    let (_, second) = migrated_database().await;
    let (_, other) = migrated_database().await;
    seed::seed(&first, &options, &|_| {}).await.expect("seed");
    seed::seed(&second, &options, &|_| {}).await.expect("seed");
    seed::seed(&other, &SeedOptions { seed: 8, ..options }, &|_| {})
        .await
        .expect("seed");
    let first = fingerprint(&first).await;
    assert_eq!(first, fingerprint(&second).await);
    assert_ne!(first, fingerprint(&other).await);
}

#[tokio::test]
async fn seeding_refuses_a_database_that_holds_data_until_reset() {
    let (_, pool) = migrated_database().await;
    let options = SeedOptions::default();
    seed::seed(&pool, &options, &|_| {})
        .await
        .expect("first seed");
    let again = seed::seed(&pool, &options, &|_| {}).await;
    assert!(matches!(again, Err(SeedError::NotEmpty)), "{again:?}");
    seed::reset(&pool).await.expect("reset");
    assert!(seed::is_empty(&pool).await.expect("is_empty"));
    seed::seed(&pool, &options, &|_| {})
        .await
        .expect("seed after reset");
}
