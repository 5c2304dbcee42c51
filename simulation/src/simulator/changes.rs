//! Change feeds of the population registers (公安局 户籍变动): each `rest` department
//! with a `[feed]` serves `GET /<code>/changes?after=<n>&limit=<m>`, the changes after
//! sequence number `n` in order, and a test or an operator appends with
//! `POST /_sim/changes/<code>?sandbox=<s>`. Outside any sandbox, a generator registers
//! births and changed phone numbers as time goes by, so that the demo shows them
//! arriving.
//!
//! A `sql` housing bureau with a feed keeps its changes to the building register in a
//! change table of its own database, `fw_bg`, numbered by `bgxh`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Datelike, Utc};
use serde_json::{Value, json};

use super::index::Facts;
use crate::seed::codes;

/// Every department's log, by (sandbox, department).
#[derive(Default)]
pub struct ChangeLogs {
    logs: Mutex<HashMap<(String, String), Vec<Value>>>,
}

impl ChangeLogs {
    fn logs(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<Value>>> {
        self.logs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a change, numbering it (`bgxh`, from 1); returns its number.
    pub fn append(&self, sandbox: &str, department: &str, mut change: Value) -> u64 {
        let mut logs = self.logs();
        let log = logs
            .entry((sandbox.to_owned(), department.to_owned()))
            .or_default();
        let sequence = log.len() as u64 + 1;
        change["bgxh"] = json!(sequence);
        if change.get("bgsj").is_none() {
            change["bgsj"] = json!(Utc::now().format("%Y%m%d%H%M%S").to_string());
        }
        log.push(change);
        sequence
    }

    /// The changes after `after`, at most `limit`, and the number of the last one given
    /// (`after` itself when there is none).
    pub fn page(
        &self,
        sandbox: &str,
        department: &str,
        after: u64,
        limit: usize,
    ) -> (Vec<Value>, u64) {
        let logs = self.logs();
        let Some(log) = logs.get(&(sandbox.to_owned(), department.to_owned())) else {
            return (Vec::new(), after);
        };
        let start = usize::try_from(after).unwrap_or(usize::MAX).min(log.len());
        let page: Vec<Value> = log[start..].iter().take(limit).cloned().collect();
        let last = start as u64 + page.len() as u64;
        (page, last.max(after))
    }
}

/// What a population register's generator draws from.
pub struct Register {
    pub department: String,
    pub county: String,
    /// (the register's id, the person's grid) of the persons it holds.
    pub persons: Vec<(String, String)>,
    /// The county's grids, where births are registered.
    pub grids: Vec<String>,
}

const GIVEN: [&str; 12] = [
    "子涵", "欣怡", "梓萱", "一诺", "浩宇", "宇轩", "沐阳", "若汐", "思远", "嘉懿", "俊熙", "语桐",
];
const FAMILY: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];

/// Appends, every `every`, one change to each register outside any sandbox: two times
/// in three a person's new phone number, else a birth.
pub async fn generate(logs: Arc<ChangeLogs>, registers: Vec<Register>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    let mut n: u64 = 0;
    loop {
        ticks.tick().await;
        n += 1;
        for register in &registers {
            if let Some(change) = next_change(register, n) {
                logs.append("", &register.department, change);
            }
        }
    }
}

/// The `n`th generated change of a register (deterministic in `n`).
fn next_change(register: &Register, n: u64) -> Option<Value> {
    let pick = |len: usize, salt: u64| -> usize {
        let mixed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(salt) >> 17;
        (mixed % len.max(1) as u64) as usize
    };
    if !n.is_multiple_of(3) && !register.persons.is_empty() {
        let (id, grid) = &register.persons[pick(register.persons.len(), 1)];
        let phone = format!(
            "139{:08}",
            (n.wrapping_mul(7_919) + 4_370_000) % 100_000_000
        );
        return Some(json!({ "hjbh": id, "lxdh": phone, "wgbm": grid, "bglx": "变更" }));
    }
    let grid = register.grids.get(pick(register.grids.len(), 2))?;
    let today = Utc::now().date_naive();
    let sequence = u32::try_from(n % 997).unwrap_or_default();
    let number = codes::id_number(
        &register.county,
        i64::from(today.year()),
        today.month(),
        today.day(),
        sequence,
    );
    let male = sequence % 2 == 1;
    Some(json!({
        "hjbh": format!("CS{}{:06}", register.county, n),
        "xm": format!("{}{}", FAMILY[pick(FAMILY.len(), 3)], GIVEN[pick(GIVEN.len(), 4)]),
        "xb": if male { "1" } else { "2" },
        "csrq": today.format("%Y%m%d").to_string(),
        "gmsfhm": number,
        "wgbm": grid,
        "bglx": "出生",
    }))
}

/// The register of a population department, from what it holds.
pub fn register(
    department: &str,
    county: &str,
    facts: &[(connectors::Element, Facts)],
    grids: Vec<String>,
) -> Register {
    Register {
        department: department.to_owned(),
        county: county.to_owned(),
        persons: facts
            .iter()
            .filter(|(element, _)| *element == connectors::Element::Person)
            .map(|(_, f)| (f.source_id.clone(), f.jurisdiction_code.clone()))
            .collect(),
        grids,
    }
}

/// The housing bureau's change table of the building register (房屋变更), empty at first.
pub fn building_changes(mysql: bool) -> String {
    let sequence = if mysql {
        "BIGINT AUTO_INCREMENT PRIMARY KEY"
    } else {
        "BIGSERIAL PRIMARY KEY"
    };
    format!(
        "CREATE TABLE IF NOT EXISTS fw_bg (bgxh {sequence}, fwbh VARCHAR(64) NOT NULL, \
         mc VARCHAR(200), dz VARCHAR(400), jd DOUBLE PRECISION, wd DOUBLE PRECISION, \
         wgbm VARCHAR(15), bgsj TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_sequence() {
        let logs = ChangeLogs::default();
        for i in 0..5 {
            logs.append("t", "220402-GA", json!({ "hjbh": format!("P{i}") }));
        }
        let (page, next) = logs.page("t", "220402-GA", 0, 2);
        assert_eq!(next, 2);
        assert_eq!(page[0]["bgxh"], 1);
        let (page, next) = logs.page("t", "220402-GA", 4, 2);
        assert_eq!((page.len(), next), (1, 5));
        let (page, next) = logs.page("t", "220402-GA", 5, 2);
        assert_eq!((page.len(), next), (0, 5));
        assert!(logs.page("other", "220402-GA", 0, 2).0.is_empty());
    }

    #[test]
    fn births_carry_valid_id_numbers() {
        let register = Register {
            department: "220402-GA".into(),
            county: "220402".into(),
            persons: vec![("HJ1".into(), "220402001001001".into())],
            grids: vec!["220402001001001".into()],
        };
        let birth = next_change(&register, 3).expect("a birth");
        let number = birth["gmsfhm"].as_str().unwrap_or_default();
        assert!(schema::identifiers::id_number(number).is_ok(), "{number}");
        let update = next_change(&register, 1).expect("an update");
        assert_eq!(update["hjbh"], "HJ1");
        assert!(schema::identifiers::phone(update["lxdh"].as_str().unwrap_or_default()).is_ok());
    }
}
