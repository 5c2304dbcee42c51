//! The caller's scope is applied by the store itself: a narrower scope sees less, through
//! every path, without any resolver filtering afterwards.

use connectors::{PersonalData, Scope};
use schema::Store;
use schema::model::Person;
use schema::store::{Key, ListQuery, PageArgs, relations};
use sqlx::PgPool;

use crate::helpers::{database_url, seeded_database};

#[tokio::test]
async fn a_county_scope_sees_only_its_county_through_lists_counts_and_lookups() {
    let pool = PgPool::connect(&database_url(&seeded_database().await))
        .await
        .expect("connect");
    let store = Store::new(pool.clone());
    let county = Scope::subtree("220403", PersonalData::Masked);
    let everything = Key::Code(String::new());
    let query = ListQuery {
        conditions: Vec::new(),
        page: PageArgs {
            after: None,
            before: None,
            limit: 100,
            from_end: false,
        },
    };

    let pages = store
        .list_pages::<Person>(
            &county,
            relations::IN_SUBTREE,
            std::slice::from_ref(&everything),
            &query,
        )
        .await
        .expect("list");
    let page = pages.get(&everything).expect("a page for the key");
    assert!(!page.rows.is_empty());
    assert!(
        page.rows
            .iter()
            .all(|p| p.jurisdiction_code.starts_with("220403"))
    );

    let counts = store
        .count_lists::<Person>(
            &county,
            relations::IN_SUBTREE,
            std::slice::from_ref(&everything),
            &[],
        )
        .await
        .expect("count");
    let expected: i64 =
        sqlx::query_scalar("SELECT count(*) FROM persons WHERE jurisdiction_code LIKE '220403%'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(counts.get(&everything), Some(&expected));

    // A sibling county's subtree, asked for explicitly, is empty under this scope.
    let sibling = Key::Code("220402".into());
    let pages = store
        .list_pages::<Person>(
            &county,
            relations::IN_SUBTREE,
            std::slice::from_ref(&sibling),
            &query,
        )
        .await
        .expect("list");
    assert!(pages.get(&sibling).is_none_or(|p| p.rows.is_empty()));

    // Lookups by id: a person of another county reads as absent.
    let (inside, outside): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT min(id) FROM persons WHERE jurisdiction_code LIKE '220403%'),
                (SELECT min(id) FROM persons WHERE jurisdiction_code LIKE '220402%')",
    )
    .fetch_one(&pool)
    .await
    .expect("two ids");
    let found = store
        .by_ids::<Person>(&county, &[inside, outside])
        .await
        .expect("lookup");
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [inside]);
}
