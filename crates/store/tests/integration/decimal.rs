//! DECIMAL(24,6) <-> rust_decimal::Decimal, exactly, through diesel binds and results.

use ansinh_model::fixtures::dec;
use ansinh_store::SqlDecimal;
use ansinh_store::decimal::decimal_column_max;
use diesel::prelude::*;
use diesel::sql_types::Numeric;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use rust_decimal::Decimal;

diesel::table! {
    amounts (id) {
        id -> Integer,
        amount -> Numeric,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn decimals_round_trip_exactly() {
    let (_db, mut conn) = super::migrated().await;
    // Same column type as every value column of the schema.
    conn.batch_execute("CREATE TABLE amounts (id INT PRIMARY KEY, amount DECIMAL(24,6) NOT NULL)")
        .await
        .unwrap();
    let max = decimal_column_max();
    let values = [
        dec("94.56"),
        dec("3818000000000"),
        Decimal::ZERO,
        dec("0.000001"),
        max,
        -max,
        dec("-17.1"),
        dec("1229935"),
    ];
    for (id, value) in (1..).zip(values) {
        diesel::insert_into(amounts::table)
            .values((amounts::id.eq(id), amounts::amount.eq(SqlDecimal(value))))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let stored: Vec<SqlDecimal> = amounts::table
        .order(amounts::id)
        .select(amounts::amount)
        .load(&mut conn)
        .await
        .unwrap();
    let stored: Vec<Decimal> = stored.into_iter().map(Decimal::from).collect();
    assert_eq!(stored, values);
    // Read back in canonical form, not with the column's six decimals.
    assert_eq!(stored[0].to_string(), "94.56");
    assert_eq!(stored[1].to_string(), "3818000000000");
    assert_eq!(stored[2].to_string(), "0");
    assert_eq!(stored[3].to_string(), "0.000001");
    assert_eq!(stored[4].to_string(), "999999999999999999.999999");
    assert_eq!(stored[5].to_string(), "-999999999999999999.999999");

    // A value filtered on as a bind matches exactly.
    let found: i64 = amounts::table
        .filter(amounts::amount.eq(SqlDecimal(dec("94.560"))))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(found, 1);

    // Aggregates come back as wider DECIMALs and integers; both read exactly.
    let sum: SqlDecimal = diesel::select(diesel::dsl::sql::<Numeric>(
        "(SELECT SUM(amount) FROM amounts WHERE id IN (1, 2, 4, 7))",
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(sum.0, dec("3818000000077.460001"));
    let count: SqlDecimal = diesel::select(diesel::dsl::sql::<Numeric>(
        "(SELECT COUNT(*) FROM amounts)",
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(count.0, dec("8"));
}

#[tokio::test(flavor = "multi_thread")]
async fn decimals_the_column_cannot_hold_are_refused_not_rounded() {
    let (_db, mut conn) = super::migrated().await;
    conn.batch_execute("CREATE TABLE amounts (id INT PRIMARY KEY, amount DECIMAL(24,6) NOT NULL)")
        .await
        .unwrap();
    for (id, value) in [
        (1, dec("0.0000001")),
        (2, decimal_column_max() + dec("0.000001")),
    ] {
        let result = diesel::insert_into(amounts::table)
            .values((amounts::id.eq(id), amounts::amount.eq(SqlDecimal(value))))
            .execute(&mut conn)
            .await;
        assert!(
            matches!(result, Err(diesel::result::Error::SerializationError(_))),
            "{value} must be refused, got {result:?}"
        );
    }
    let rows: i64 = amounts::table.count().get_result(&mut conn).await.unwrap();
    assert_eq!(rows, 0);
    // Trailing zeros beyond the scale are not extra precision.
    diesel::insert_into(amounts::table)
        .values((
            amounts::id.eq(3),
            amounts::amount.eq(SqlDecimal(dec("1.50000000"))),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn floats_are_not_read_as_decimals() {
    let (_db, mut conn) = super::migrated().await;
    let result = diesel::select(diesel::dsl::sql::<Numeric>("CAST(0.1 AS DOUBLE)"))
        .get_result::<SqlDecimal>(&mut conn)
        .await;
    assert!(result.is_err(), "{result:?}");
}
