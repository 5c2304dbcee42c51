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

/// Which of an entity's columns a statement reads: bit `i` stands for its `i`-th column
/// ([`super::Entity::NAMES`]); the id, first, is always read. A column not read leaves
/// its field at the field type's default, so a set must hold every column the reader of
/// the rows looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColumnSet(u64);

impl ColumnSet {
    /// Every column.
    pub const ALL: ColumnSet = ColumnSet(u64::MAX);

    /// The id alone.
    pub const ID: ColumnSet = ColumnSet(1);

    /// The set with the named columns added; a name the entity lacks adds every column.
    #[must_use]
    pub fn with<E: super::Entity>(self, names: &[&str]) -> ColumnSet {
        names.iter().fold(self, |set, name| {
            match E::NAMES.iter().position(|known| known == name) {
                Some(index) if index < 64 => ColumnSet(set.0 | 1 << index),
                _ => ColumnSet::ALL,
            }
        })
    }

    /// Whether it reads the `index`-th column.
    pub fn reads(self, index: usize) -> bool {
        index == 0 || (index < 64 && self.0 & 1 << index != 0)
    }

    /// How many of `E`'s columns it reads.
    pub fn width<E: super::Entity>(self) -> usize {
        (0..E::NAMES.len()).filter(|&i| self.reads(i)).count()
    }

    /// Its columns of `E`, qualified with the alias `t`, in the order `E` reads them.
    pub fn select_list<E: super::Entity>(self) -> String {
        let mut list = String::new();
        for (index, name) in E::NAMES.iter().enumerate() {
            if self.reads(index) {
                if !list.is_empty() {
                    list.push_str(", ");
                }
                list.push_str("t.");
                list.push_str(name);
            }
        }
        list
    }
}

/// The columns of a party's person and of its organization a statement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartyColumns {
    pub person: ColumnSet,
    pub organization: ColumnSet,
}

impl PartyColumns {
    pub const ALL: PartyColumns = PartyColumns {
        person: ColumnSet::ALL,
        organization: ColumnSet::ALL,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;
    use crate::store::Entity;

    #[test]
    fn a_set_reads_the_id_and_the_columns_named() {
        let name = ColumnSet::ID.with::<Person>(&["name"]);
        assert_eq!(name.select_list::<Person>(), "t.id, t.name");
        assert_eq!(name.width::<Person>(), 2);
        let name_and_code = name.with::<Person>(&["jurisdiction_code", "name"]);
        assert_eq!(
            name_and_code.select_list::<Person>(),
            "t.id, t.name, t.jurisdiction_code"
        );
        assert_eq!(ColumnSet::ID.select_list::<Person>(), "t.id");
    }

    #[test]
    fn a_column_the_entity_lacks_reads_them_all() {
        let all = ColumnSet::ID.with::<Person>(&["name", "no_such_column"]);
        assert_eq!(all, ColumnSet::ALL);
        assert_eq!(all.select_list::<Person>(), Person::COLUMNS);
        assert_eq!(all.width::<Person>(), Person::NAMES.len());
    }
}
