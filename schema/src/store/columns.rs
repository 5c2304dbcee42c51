//! Rows decoded by position. A statement's columns are read in the order its select list
//! names them: no column is looked up by name, and each column's type is checked against
//! the field it fills once per statement, on its first row — every row of a statement
//! shares its columns' types — instead of once per row.

use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type, TypeInfo};

/// A cursor over one row's columns.
pub struct Columns<'r> {
    row: &'r PgRow,
    next: usize,
    check_types: bool,
}

impl<'r> Columns<'r> {
    /// The next column, decoded as `T`.
    pub fn read<T: Decode<'r, Postgres> + Type<Postgres>>(&mut self) -> Result<T, sqlx::Error> {
        let index = self.next;
        self.next += 1;
        if self.check_types {
            let columns = self.row.columns();
            let column = columns
                .get(index)
                .ok_or(sqlx::Error::ColumnIndexOutOfBounds {
                    index,
                    len: columns.len(),
                })?;
            let found = sqlx::Column::type_info(column);
            if !T::compatible(found) {
                return Err(sqlx::Error::ColumnDecode {
                    index: format!("{index} ({})", sqlx::Column::name(column)),
                    source: format!(
                        "a {} column cannot be read as {}",
                        found.name(),
                        T::type_info().name()
                    )
                    .into(),
                });
            }
        }
        self.row.try_get_unchecked(index)
    }

    /// Whether the next column to read is NULL.
    pub fn at_null(&self) -> Result<bool, sqlx::Error> {
        Ok(sqlx::ValueRef::is_null(&self.row.try_get_raw(self.next)?))
    }

    pub fn skip(&mut self, count: usize) {
        self.next += count;
    }
}

/// Each row decoded by `decode`, types checked on the first.
pub fn decode_rows<T>(
    rows: &[PgRow],
    mut decode: impl FnMut(&mut Columns<'_>) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, sqlx::Error> {
    rows.iter()
        .enumerate()
        .map(|(position, row)| {
            decode(&mut Columns {
                row,
                next: 0,
                check_types: position == 0,
            })
        })
        .collect()
}
