//! The caller's scope is applied by the store itself: a narrower scope sees less, through
//! every path, without any resolver filtering afterwards.

use connectors::{PersonalData, Scope};
use schema::Store;
use schema::model::{Event, Person};
use schema::store::{ColumnSet, Key, ListQuery, PageArgs, PartyColumns, relations};
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
        parties: None,
        columns: ColumnSet::ALL,
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

#[tokio::test]
async fn the_parties_of_an_event_come_with_their_rows_as_the_scope_shows_them() {
    let pool = PgPool::connect(&database_url(&seeded_database().await))
        .await
        .expect("connect");
    let store = Store::new(pool.clone());
    // An event of 220403 with a person and an organization among its parties.
    let (event, person, organization): (i64, i64, i64) = sqlx::query_as(
        "SELECT a.event_id, a.person_id, b.organization_id
           FROM event_parties a JOIN event_parties b ON b.event_id = a.event_id
           JOIN persons s ON s.id = a.person_id
           JOIN organizations o ON o.id = b.organization_id
          WHERE s.jurisdiction_code LIKE '220403%' AND o.jurisdiction_code LIKE '220403%'
          ORDER BY a.event_id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("an event with both kinds of party");
    let expected_person = store
        .by_ids::<Person>(&Scope::city_wide(), &[person])
        .await
        .expect("person");

    let own = Scope::subtree("220403", PersonalData::Masked);
    let parties = store.event_parties(&own, &[event]).await.expect("parties");
    let of = |id: i64| parties.iter().find(|p| p.person_id == Some(id));
    let seen = of(person)
        .and_then(|p| p.person.clone())
        .expect("the person");
    // The same row a lookup by id reads, every column.
    assert_eq!(format!("{seen:?}"), format!("{:?}", expected_person[0]));
    assert!(
        parties
            .iter()
            .any(|p| p.organization_id == Some(organization) && p.organization.is_some())
    );

    // Under a sibling county's scope the parties are listed, their rows are not.
    let sibling = Scope::subtree("220402", PersonalData::Masked);
    let parties = store
        .event_parties(&sibling, &[event])
        .await
        .expect("parties");
    assert!(!parties.is_empty());
    assert!(
        parties
            .iter()
            .all(|p| p.person.is_none() && p.organization.is_none())
    );
}

#[tokio::test]
async fn a_page_read_with_its_parties_shows_them_as_the_parties_statement_does() {
    let pool = PgPool::connect(&database_url(&seeded_database().await))
        .await
        .expect("connect");
    let store = Store::new(pool.clone());
    // Some events without any party (every seeded event has one).
    sqlx::query("DELETE FROM event_parties WHERE event_id % 7 = 0")
        .execute(&pool)
        .await
        .expect("delete");
    let everything = Key::Code(String::new());
    for scope in [
        Scope::city_wide(),
        Scope::subtree("220403", PersonalData::Masked),
    ] {
        for from_end in [false, true] {
            let query = |with_parties: bool| ListQuery {
                conditions: Vec::new(),
                page: PageArgs {
                    after: None,
                    before: None,
                    limit: 60,
                    from_end,
                },
                parties: with_parties.then_some(PartyColumns::ALL),
                columns: ColumnSet::ALL,
            };
            let list = async |with_parties| {
                let mut pages = store
                    .list_pages::<Event>(
                        &scope,
                        relations::IN_SUBTREE,
                        std::slice::from_ref(&everything),
                        &query(with_parties),
                    )
                    .await
                    .expect("list");
                pages.remove(&everything).expect("a page for the key")
            };
            let (with, without) = (list(true).await, list(false).await);
            // The same events in the same order, the same `more`.
            let ids = |page: &schema::store::Page<Event>| {
                page.rows.iter().map(|e| e.id).collect::<Vec<_>>()
            };
            assert_eq!(ids(&with), ids(&without));
            assert_eq!(with.more, without.more);
            assert_eq!(with.rows.len(), 60);
            assert!(without.rows.iter().all(|e| e.parties.is_none()));

            // Each event's parties, every column, as the parties' own statement reads them
            // under the same scope (rows outside it absent in both), events without any too.
            let parties = store
                .event_parties(&scope, &ids(&without))
                .await
                .expect("parties");
            let mut none = 0;
            for event in &with.rows {
                let expected: Vec<String> = parties
                    .iter()
                    .filter(|p| p.event_id == event.id)
                    .map(|p| format!("{p:?}"))
                    .collect();
                none += usize::from(expected.is_empty());
                let read: Vec<String> = event
                    .parties
                    .as_deref()
                    .expect("read with the page")
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect();
                assert_eq!(read, expected, "event {}", event.id);
            }
            assert!(none > 0 && none < 60, "{none} of 60 events without parties");
        }
    }
}
