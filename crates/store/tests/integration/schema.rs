//! `schema.rs` against the migrated database: same tables, same columns, same types, same
//! nullability. The expected side is derived from the `table!` macros themselves.

use std::collections::BTreeMap;

use ansinh_store::schema::*;
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

/// The columns of a table's `all_columns` tuple as (name, short SQL type name).
trait ColumnList {
    fn columns() -> Vec<(&'static str, String)>;
}

macro_rules! impl_column_list {
    ($($column:ident),+) => {
        impl<$($column: diesel::Column + diesel::Expression),+> ColumnList for ($($column,)+) {
            fn columns() -> Vec<(&'static str, String)> {
                vec![$(($column::NAME, short_type(std::any::type_name::<$column::SqlType>()))),+]
            }
        }
    };
}

impl_column_list!(A, B);
impl_column_list!(A, B, C);
impl_column_list!(A, B, C, D);
impl_column_list!(A, B, C, D, E);
impl_column_list!(A, B, C, D, E, F);
impl_column_list!(A, B, C, D, E, F, G);
impl_column_list!(A, B, C, D, E, F, G, H);
impl_column_list!(A, B, C, D, E, F, G, H, I);
impl_column_list!(A, B, C, D, E, F, G, H, I, J);
impl_column_list!(A, B, C, D, E, F, G, H, I, J, K);
impl_column_list!(A, B, C, D, E, F, G, H, I, J, K, L);
impl_column_list!(A, B, C, D, E, F, G, H, I, J, K, L, M);

/// `diesel::sql_types::Nullable<diesel::sql_types::Text>` -> `Nullable<Text>`.
fn short_type(full: &str) -> String {
    let mut short = String::new();
    let mut token = String::new();
    for character in full.chars() {
        if matches!(character, '<' | '>' | ',' | ' ') {
            short.push_str(token.rsplit("::").next().unwrap_or_default());
            token.clear();
            short.push(character);
        } else {
            token.push(character);
        }
    }
    short.push_str(token.rsplit("::").next().unwrap_or_default());
    short
}

fn declared() -> BTreeMap<&'static str, Vec<(&'static str, String)>> {
    BTreeMap::from([
        (
            "regions",
            <<regions::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "region_members",
            <<region_members::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "region_lineage",
            <<region_lineage::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "indicators",
            <<indicators::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "sources",
            <<sources::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "import_runs",
            <<import_runs::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "import_run_files",
            <<import_run_files::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "import_run_rejections",
            <<import_run_rejections::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "observations",
            <<observations::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "observation_history",
            <<observation_history::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
        (
            "targets",
            <<targets::table as diesel::Table>::AllColumns as ColumnList>::columns(),
        ),
    ])
}

#[derive(QueryableByName, Debug)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

/// The diesel SQL type a MySQL column maps to.
fn diesel_type(column: &ColumnInfo) -> String {
    let unsigned = column.column_type.contains("unsigned");
    let base = match (column.data_type.as_str(), unsigned) {
        ("tinyint", false) if column.column_type.starts_with("tinyint(1)") => "Bool".to_owned(),
        ("tinyint", true) => "Unsigned<TinyInt>".to_owned(),
        ("smallint", true) => "Unsigned<SmallInt>".to_owned(),
        ("int", true) => "Unsigned<Integer>".to_owned(),
        ("bigint", true) => "Unsigned<BigInt>".to_owned(),
        ("int", false) => "Integer".to_owned(),
        ("bigint", false) => "BigInt".to_owned(),
        ("varchar" | "char" | "text" | "mediumtext" | "longtext", _) => "Text".to_owned(),
        ("decimal", _) => "Numeric".to_owned(),
        ("date", _) => "Date".to_owned(),
        ("datetime", _) => "Datetime".to_owned(),
        (other, _) => format!("unmapped {other} ({})", column.column_type),
    };
    if column.is_nullable == "YES" {
        format!("Nullable<{base}>")
    } else {
        base
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rs_matches_the_migrated_database() {
    let (_db, mut conn) = super::migrated().await;
    let columns = diesel::sql_query(
        "SELECT table_name AS table_name, column_name AS column_name, \
         data_type AS data_type, column_type AS column_type, is_nullable AS is_nullable \
         FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name <> '__diesel_schema_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .load::<ColumnInfo>(&mut conn)
    .await
    .unwrap();
    let mut migrated: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for column in &columns {
        migrated
            .entry(column.table_name.clone())
            .or_default()
            .push((column.column_name.clone(), diesel_type(column)));
    }
    let declared: BTreeMap<String, Vec<(String, String)>> = declared()
        .into_iter()
        .map(|(table, columns)| {
            let columns = columns
                .into_iter()
                .map(|(name, sql_type)| (name.to_owned(), sql_type))
                .collect();
            (table.to_owned(), columns)
        })
        .collect();
    assert_eq!(
        declared.keys().collect::<Vec<_>>(),
        migrated.keys().collect::<Vec<_>>(),
        "schema.rs and the migrations declare different tables"
    );
    for (table, columns) in &declared {
        assert_eq!(
            columns, &migrated[table],
            "table {table}: schema.rs (left) and the migrated database (right) differ"
        );
    }
}

#[test]
fn short_type_names() {
    assert_eq!(
        short_type(
            "diesel::sql_types::Nullable<diesel::sql_types::Unsigned<diesel::sql_types::Integer>>"
        ),
        "Nullable<Unsigned<Integer>>"
    );
}
