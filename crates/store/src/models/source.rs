//! Rows of `sources`.

use diesel::prelude::*;

use crate::schema::sources;

/// Where figures come from, exactly as the import stated it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sources, check_for_backend(diesel::mysql::Mysql))]
pub struct SourceRow {
    pub id: u32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = sources)]
pub struct NewSource<'a> {
    pub name: &'a str,
}
