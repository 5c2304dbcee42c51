//! The data set in memory: the generator's rows read back exactly as the loader would
//! COPY them, for the department simulator, whose records must line up with the
//! gateway's index (same ids, names, ID numbers) without reading the gateway's tables.

use std::collections::HashMap;

use tokio::sync::mpsc;

use super::copy::{Message, Sender};
use super::{SeedOptions, generate};

/// The columns kept of one table, and its rows (`None` for SQL NULL).
#[derive(Debug, Default)]
pub struct Table {
    columns: Vec<&'static str>,
    rows: Vec<Vec<Option<String>>>,
}

impl Table {
    /// Where `name` is in each row; a column that was not asked for is an empty field.
    pub fn column(&self, name: &str) -> Column {
        Column(self.columns.iter().position(|c| *c == name))
    }

    pub fn rows(&self) -> &[Vec<Option<String>>] {
        &self.rows
    }
}

/// A column's place in a row.
#[derive(Debug, Clone, Copy)]
pub struct Column(Option<usize>);

impl Column {
    pub fn of<'a>(&self, row: &'a [Option<String>]) -> Option<&'a str> {
        self.0
            .and_then(|at| row.get(at))
            .and_then(|value| value.as_deref())
    }

    /// An id column's value.
    pub fn id(&self, row: &[Option<String>]) -> Option<i64> {
        self.of(row).and_then(|value| value.parse().ok())
    }
}

/// The tables asked for, with the columns asked for.
#[derive(Debug, Default)]
pub struct DataSet {
    tables: HashMap<&'static str, Table>,
}

impl DataSet {
    /// The table's rows; an empty table when it was not asked for.
    pub fn table(&self, name: &str) -> &Table {
        static EMPTY: Table = Table {
            columns: Vec::new(),
            rows: Vec::new(),
        };
        self.tables.get(name).unwrap_or(&EMPTY)
    }
}

/// Runs the generator of `options` and keeps `wanted`'s tables and columns. Blocks: call
/// it where blocking is allowed (`spawn_blocking`).
pub fn data_set(options: SeedOptions, wanted: &[(&'static str, &[&'static str])]) -> DataSet {
    let (sender, mut receiver) = mpsc::channel(4);
    let generator = std::thread::spawn(move || {
        // The receiver below reads to the end, so the generator never stops early.
        let _ = generate::generate(&Sender::new(sender), options.scale, options.seed);
    });
    let mut data = DataSet::default();
    // For the table being read: its name, which of its columns are kept and where.
    let mut current: Option<(&'static str, Vec<usize>)> = None;
    while let Some(message) = receiver.blocking_recv() {
        match message {
            Message::Begin { table, columns, .. } => {
                current = wanted
                    .iter()
                    .find(|(name, _)| *name == table)
                    .map(|(name, keep)| {
                        let all: Vec<&str> = columns.split(',').map(str::trim).collect();
                        let kept: Vec<&'static str> =
                            keep.iter().copied().filter(|c| all.contains(c)).collect();
                        let at = kept
                            .iter()
                            .filter_map(|c| all.iter().position(|a| a == c))
                            .collect();
                        data.tables.insert(
                            name,
                            Table {
                                columns: kept,
                                rows: Vec::new(),
                            },
                        );
                        (*name, at)
                    });
            }
            Message::Rows { bytes, .. } => {
                let Some((name, at)) = &current else { continue };
                let Some(table) = data.tables.get_mut(name) else {
                    continue;
                };
                let text = String::from_utf8_lossy(&bytes);
                for line in text.lines() {
                    let fields: Vec<&str> = line.split('\t').collect();
                    table.rows.push(
                        at.iter()
                            .map(|&i| fields.get(i).and_then(|f| unescape(f)))
                            .collect(),
                    );
                }
            }
            Message::End => current = None,
        }
    }
    let _ = generator.join();
    data
}

/// A field of COPY's text format: `\N` is NULL; backslash escapes are undone.
fn unescape(field: &str) -> Option<String> {
    if field == "\\N" {
        return None;
    }
    if !field.contains('\\') {
        return Some(field.to_owned());
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Scale;

    #[test]
    fn copy_text_fields_read_back() {
        assert_eq!(unescape("\\N"), None);
        assert_eq!(unescape("a\\\\b\\tc\\nd").as_deref(), Some("a\\b\tc\nd"));
        assert_eq!(unescape("辽源市").as_deref(), Some("辽源市"));
    }

    #[test]
    fn the_generator_read_back_keeps_the_columns_asked_for() {
        let options = SeedOptions {
            scale: Scale::Small,
            seed: SeedOptions::default().seed,
        };
        let data = data_set(options, &[("jurisdictions", &["code", "level", "nope"])]);
        let jurisdictions = data.table("jurisdictions");
        let (code, level) = (jurisdictions.column("code"), jurisdictions.column("level"));
        assert!(jurisdictions.column("nope").of(&[]).is_none());
        let city = jurisdictions
            .rows()
            .iter()
            .find(|row| code.of(row) == Some("220400"))
            .expect("the city is a jurisdiction");
        assert_eq!(level.of(city), Some("CITY"));
        assert_eq!(data.table("persons").rows().len(), 0);
    }
}
