//! Rows decoded by position, as the store reads its entities.

use schema::store::decode_rows;
use sqlx::{Connection, PgConnection};

use crate::helpers::database_url;

#[tokio::test]
async fn columns_are_read_in_order_and_a_wrong_type_is_an_error_not_a_panic() {
    let mut connection = PgConnection::connect(&database_url("postgres"))
        .await
        .expect("PostgreSQL is running (scripts/ensure-services.sh)");
    let rows = sqlx::query(
        "SELECT * FROM (VALUES (1::int8, 'a'::text, NULL::int4), (2, 'b', 7)) v(n, s, o)",
    )
    .fetch_all(&mut connection)
    .await
    .expect("the rows");

    let read = decode_rows(&rows, |columns| {
        Ok((
            columns.read::<i64>()?,
            columns.read::<String>()?,
            columns.read::<Option<i32>>()?,
        ))
    })
    .expect("columns of the right types");
    assert_eq!(read, [(1, "a".into(), None), (2, "b".into(), Some(7))]);

    // The first row's NULL does not hide the column's type: int4 is not an i64.
    let wrong = decode_rows(&rows, |columns| {
        columns.skip(2);
        columns.read::<Option<i64>>()
    })
    .expect_err("an int4 read as an i64");
    assert!(wrong.to_string().contains("INT4"), "{wrong}");

    let past_the_end = decode_rows(&rows, |columns| {
        columns.skip(3);
        columns.read::<i64>()
    })
    .expect_err("a column past the last");
    assert!(
        matches!(
            past_the_end,
            sqlx::Error::ColumnIndexOutOfBounds { index: 3, len: 3 }
        ),
        "{past_the_end}"
    );

    let nulls = decode_rows(&rows, |columns| {
        columns.skip(2);
        columns.at_null()
    })
    .expect("NULL or not");
    assert_eq!(nulls, [true, false]);
}

#[tokio::test]
async fn a_column_skipped_on_the_first_row_is_checked_where_it_is_read() {
    let mut connection = PgConnection::connect(&database_url("postgres"))
        .await
        .expect("PostgreSQL is running (scripts/ensure-services.sh)");
    let rows = sqlx::query("SELECT * FROM (VALUES (false, NULL::int4), (true, 7)) v(present, n)")
        .fetch_all(&mut connection)
        .await
        .expect("the rows");
    // As an absent party's columns are skipped: the first row never reads `n`.
    let wrong = decode_rows(&rows, |columns| {
        if columns.read::<bool>()? {
            columns.read::<Option<i64>>()
        } else {
            columns.skip(1);
            Ok(None)
        }
    })
    .expect_err("an int4 read as an i64 on the second row");
    assert!(wrong.to_string().contains("INT4"), "{wrong}");
}
