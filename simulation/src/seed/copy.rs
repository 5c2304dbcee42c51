//! Rows in PostgreSQL's COPY text format, handed from the generator thread to the
//! connection in chunks.
//!
//! Generating a city's worth of rows is CPU work and loading them is the server's: the
//! generator runs on a blocking thread and sends ~1 MiB chunks over a bounded channel, so
//! the two overlap and memory stays flat whatever the scale. The tables are emptied in
//! the loading transaction, so rows go in frozen (`FREEZE`).

use std::io::Write as _;

use sqlx::PgConnection;
use tokio::sync::mpsc;

use super::Progress;
use super::time::beijing_fields;

/// A chunk is sent once it holds this many bytes...
const CHUNK_BYTES: usize = 1 << 20;
/// ...or this many rows, so that progress is reported at least this often.
const CHUNK_ROWS: u64 = 10_000;

/// One table's rows being written: the text of whole rows, one field at a time.
#[derive(Debug, Default)]
pub struct RowBuffer {
    bytes: Vec<u8>,
    rows: u64,
    in_row: bool,
}

impl RowBuffer {
    fn separate(&mut self) {
        if self.in_row {
            self.bytes.push(b'\t');
        }
        self.in_row = true;
    }

    /// A text field, escaped: backslash, tab, newline and carriage return are the
    /// characters the text format gives meaning to.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        let mut rest = value.as_bytes();
        while let Some(at) = rest
            .iter()
            .position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
        {
            self.bytes.extend_from_slice(&rest[..at]);
            self.bytes.extend_from_slice(match rest[at] {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                _ => b"\\r",
            });
            rest = &rest[at + 1..];
        }
        self.bytes.extend_from_slice(rest);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.separate();
        self.bytes.extend_from_slice(b"\\N");
        self
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        // Writing into a Vec cannot fail.
        let _ = write!(self.bytes, "{value}");
        self
    }

    pub fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// A coordinate, to the 6 decimals (~0.1 m) a survey would record.
    pub fn degrees(&mut self, value: f64) -> &mut Self {
        self.separate();
        let _ = write!(self.bytes, "{value:.6}");
        self
    }

    /// An instant, written in Beijing time with its offset.
    pub fn timestamp(&mut self, instant: i64) -> &mut Self {
        self.separate();
        let (year, month, day, hour, minute, second) = beijing_fields(instant);
        let _ = write!(
            self.bytes,
            "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}+08"
        );
        self
    }

    pub fn opt_timestamp(&mut self, instant: Option<i64>) -> &mut Self {
        match instant {
            Some(instant) => self.timestamp(instant),
            None => self.null(),
        }
    }

    /// A date given as days since 1970-01-01.
    pub fn date(&mut self, days: i64) -> &mut Self {
        self.separate();
        let (year, month, day) = super::time::civil_from_days(days);
        let _ = write!(self.bytes, "{year:04}-{month:02}-{day:02}");
        self
    }

    pub fn end_row(&mut self) {
        self.bytes.push(b'\n');
        self.rows += 1;
        self.in_row = false;
    }

    fn take(&mut self) -> Vec<u8> {
        self.rows = 0;
        std::mem::replace(&mut self.bytes, Vec::with_capacity(CHUNK_BYTES + 4096))
    }

    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or("<not UTF-8>")
    }
}

/// What the generator tells the loader.
#[derive(Debug)]
pub enum Message {
    Begin {
        table: &'static str,
        columns: &'static str,
        total: u64,
    },
    /// Whole rows; `done` counts this table's rows so far, this chunk included.
    Rows {
        bytes: Vec<u8>,
        done: u64,
    },
    End,
}

/// The loader has gone away (the database failed): the generator stops.
#[derive(Debug)]
pub struct Stopped;

/// The generator's end of the channel.
pub struct Sender {
    channel: mpsc::Sender<Message>,
}

impl Sender {
    pub fn new(channel: mpsc::Sender<Message>) -> Self {
        Self { channel }
    }

    fn send(&self, message: Message) -> Result<(), Stopped> {
        self.channel.blocking_send(message).map_err(|_| Stopped)
    }

    /// Starts a table whose row count is known in advance (the progress bar's total).
    pub fn table(
        &self,
        table: &'static str,
        columns: &'static str,
        total: u64,
    ) -> Result<TableWriter<'_>, Stopped> {
        self.send(Message::Begin {
            table,
            columns,
            total,
        })?;
        Ok(TableWriter {
            sender: self,
            rows: RowBuffer::default(),
            done: 0,
        })
    }
}

/// Rows of one table on their way to the loader.
pub struct TableWriter<'a> {
    sender: &'a Sender,
    rows: RowBuffer,
    done: u64,
}

impl TableWriter<'_> {
    /// The row being written (fields are appended to it; [`Self::end_row`] closes it).
    pub fn row(&mut self) -> &mut RowBuffer {
        &mut self.rows
    }

    pub fn end_row(&mut self) -> Result<(), Stopped> {
        self.rows.end_row();
        if self.rows.bytes.len() >= CHUNK_BYTES || self.rows.rows >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Stopped> {
        if self.rows.rows == 0 {
            return Ok(());
        }
        self.done += self.rows.rows;
        let bytes = self.rows.take();
        self.sender.send(Message::Rows {
            bytes,
            done: self.done,
        })
    }

    /// Sends the last rows and ends the table; returns how many rows it had.
    pub fn finish(mut self) -> Result<u64, Stopped> {
        self.flush()?;
        self.sender.send(Message::End)?;
        Ok(self.done)
    }
}

/// Rows loaded per table, as the server counted them.
#[derive(Debug, Default)]
pub struct Loaded {
    pub tables: Vec<(&'static str, u64)>,
}

impl Loaded {
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .filter(|(name, _)| *name == table)
            .map(|(_, rows)| rows)
            .sum()
    }
}

/// The connection's side: runs one COPY per table the generator begins. Returns when
/// the generator hangs up; `complete` is false if it did so in the middle of a table
/// (it failed), and that table's COPY is then aborted.
pub async fn load(
    conn: &mut PgConnection,
    mut messages: mpsc::Receiver<Message>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(Loaded, bool), sqlx::Error> {
    let mut loaded = Loaded::default();
    while let Some(message) = messages.recv().await {
        let Message::Begin {
            table,
            columns,
            total,
        } = message
        else {
            // Rows outside a table: the generator broke its protocol.
            return Ok((loaded, false));
        };
        match copy_table(conn, &mut messages, table, columns, total, progress).await? {
            Some(rows) => loaded.tables.push((table, rows)),
            None => return Ok((loaded, false)),
        }
    }
    Ok((loaded, true))
}

/// One table's COPY: the server's row count, or `None` if the generator hung up first.
async fn copy_table(
    conn: &mut PgConnection,
    messages: &mut mpsc::Receiver<Message>,
    table: &'static str,
    columns: &'static str,
    total: u64,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Option<u64>, sqlx::Error> {
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {table} ({columns}) FROM STDIN WITH (FREEZE)"
        ))
        .await?;
    progress(Progress {
        table,
        done: 0,
        total,
    });
    loop {
        match messages.recv().await {
            Some(Message::Rows { bytes, done }) => {
                copy.send(bytes).await?;
                progress(Progress {
                    table,
                    done,
                    total: total.max(done),
                });
            }
            Some(Message::End) => {
                let rows = copy.finish().await?;
                progress(Progress {
                    table,
                    done: rows,
                    total: total.max(rows),
                });
                return Ok(Some(rows));
            }
            Some(Message::Begin { .. }) | None => {
                copy.abort("the seed generator stopped").await?;
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_are_escaped() {
        let mut rows = RowBuffer::default();
        rows.text("a\\b\tc\nd\re")
            .null()
            .int(-42)
            .text("辽源市")
            .opt_int(None)
            .opt_text(Some(""));
        rows.end_row();
        assert_eq!(
            rows.as_str(),
            "a\\\\b\\tc\\nd\\re\t\\N\t-42\t辽源市\t\\N\t\n"
        );
    }

    #[test]
    fn times_are_written_in_beijing_time() {
        let mut rows = RowBuffer::default();
        rows.timestamp(super::super::time::EVENTS_START)
            .date(-1)
            .degrees(125.1);
        rows.end_row();
        rows.int(1);
        rows.end_row();
        assert_eq!(
            rows.as_str(),
            "2024-11-01 00:00:00+08\t1969-12-31\t125.100000\n1\n"
        );
        assert_eq!(rows.rows, 2);
    }
}
