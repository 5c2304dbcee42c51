//! Rows decoded by position. A statement's columns are read in the order its select list
//! names them: no column is looked up by name, and each column's type is checked against
//! the field it fills once per statement — the first time that column is read, whichever
//! row that is (every row of a statement shares its columns' types; a column skipped on
//! one row, as an absent party's are, is checked on the row that reads it) — instead of
//! on every row.

use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type, TypeInfo};

/// A cursor over one row's columns.
pub struct Columns<'r, 'c> {
    row: &'r PgRow,
    next: usize,
    /// Per column of the statement: whether its type has been checked.
    checked: &'c mut [bool],
}

impl<'r> Columns<'r, '_> {
    /// The next column, decoded as `T`.
    pub fn read<T: Decode<'r, Postgres> + Type<Postgres>>(&mut self) -> Result<T, sqlx::Error> {
        let index = self.next;
        self.next += 1;
        let columns = self.row.columns();
        let checked =
            self.checked
                .get_mut(index)
                .ok_or_else(|| sqlx::Error::ColumnIndexOutOfBounds {
                    index,
                    len: columns.len(),
                })?;
        if !*checked {
            let column = &columns[index];
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
            *checked = true;
        }
        self.row.try_get_unchecked(index)
    }

    /// The next column, decoded as `T`, left to be read again.
    pub fn peek<T: Decode<'r, Postgres> + Type<Postgres>>(&mut self) -> Result<T, sqlx::Error> {
        let value = self.read()?;
        self.next -= 1;
        Ok(value)
    }

    /// Whether the next column to read is NULL.
    pub fn at_null(&self) -> Result<bool, sqlx::Error> {
        Ok(sqlx::ValueRef::is_null(&self.row.try_get_raw(self.next)?))
    }

    pub fn skip(&mut self, count: usize) {
        self.next += count;
    }
}

/// Each row decoded by `decode`, each column's type checked the first time it is read.
pub fn decode_rows<T>(
    rows: &[PgRow],
    mut decode: impl FnMut(&mut Columns<'_, '_>) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, sqlx::Error> {
    let mut checked = vec![false; rows.first().map_or(0, |row| row.columns().len())];
    rows.iter()
        .map(|row| {
            decode(&mut Columns {
                row,
                next: 0,
                checked: &mut checked,
            })
        })
        .collect()
}
