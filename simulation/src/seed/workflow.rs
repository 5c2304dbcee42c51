//! whistles, summonses and timeline: every event's workflow history
//! ([`super::history`]) as the dispatch workflow's tables hold it.
//!
//! The tables are written after the events, one after another, each by replaying the
//! events' lives again (a life is a few dozen bytes; its rows are not kept). Ids run
//! from 1 in event order, and within an event in time order.

use serde_json::{Value, json};

use super::copy::{Sender, Stopped};
use super::departments::{DEPARTMENT_TYPES, code};
use super::history::{Actor, Detail, Entry, Level, Life, Story, replay};
use super::jurisdictions::{CITY_CODE, COUNTIES, Grid, Tree};
use super::time::{DAY, civil_from_days};
use schema::enums::{EventChannel, ResolutionTier};

pub const WHISTLE_COLUMNS: &str = "id, event_id, jurisdiction_code, note, blown_by, blown_at";

pub const SUMMONS_COLUMNS: &str = "id, whistle_id, event_id, department_code, status, \
                                   report_in_due_at, handling_due_at, reported_in_at, done_at, \
                                   decline_reason, extension_until, extension_reason, feedback, \
                                   updated_at, event_jurisdiction_code, overdue_marks, urges, \
                                   extensions";

pub const TIMELINE_COLUMNS: &str = "id, event_id, summons_id, kind, actor, actor_role, \
                                    actor_department, department_code, jurisdiction_code, \
                                    state_before, state_after, detail, at, position";

/// The last id of each table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    pub whistles: i64,
    pub summonses: i64,
    pub timeline: i64,
}

/// An instant as the workflow's JSON writes it (RFC 3339, UTC).
fn rfc3339(instant: i64) -> String {
    let (year, month, day) = civil_from_days(instant.div_euclid(DAY));
    let seconds = instant.rem_euclid(DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The names and codes an event's rows are written with.
struct Place<'a> {
    grid: &'a Grid,
    township: &'a str,
    county: &'a str,
    county_index: usize,
}

impl<'a> Place<'a> {
    fn of(grid: &'a Grid) -> Self {
        Self {
            grid,
            township: &grid.code[..9],
            county: &grid.code[..6],
            county_index: grid.county,
        }
    }

    fn code(&self, level: Level) -> &'a str {
        match level {
            Level::Township => self.township,
            Level::County => self.county,
        }
    }

    /// The level above `level`.
    fn above(&self, level: Level) -> &'a str {
        match level {
            Level::Township => self.county,
            Level::County => CITY_CODE,
        }
    }

    /// The level's 综治中心.
    fn center(&self, level: Level) -> String {
        match level {
            Level::Township => format!("{}综治中心", self.grid.township),
            Level::County => format!("{}综治中心", COUNTIES[self.county_index].name),
        }
    }

    fn department(&self, type_index: u8) -> String {
        code(&COUNTIES[self.county_index], type_index as usize)
    }

    fn grid_worker(&self) -> String {
        format!("{}第{}网格网格员", self.grid.community, self.grid.number)
    }
}

/// Replays each event that has rows of a table; `write` gets the event's id, its life,
/// its place and its story.
fn each_story(
    tree: &Tree,
    lives: &[Life],
    wanted: impl Fn(&Life) -> bool,
    mut write: impl FnMut(i64, &Life, &Place<'_>, &Story) -> Result<(), Stopped>,
) -> Result<(), Stopped> {
    for (index, life) in lives.iter().enumerate() {
        if !wanted(life) {
            continue;
        }
        let story = replay(life);
        let place = Place::of(&tree.grids[life.grid as usize]);
        write(index as i64 + 1, life, &place, &story)?;
    }
    Ok(())
}

/// Writes whistles, summonses and timeline for the events of `lives` (event `i + 1`
/// lives `lives[i]`).
pub fn write(out: &Sender, tree: &Tree, lives: &[Life]) -> Result<Written, Stopped> {
    let total = |count: fn(&Life) -> u64| lives.iter().map(count).sum::<u64>();
    let mut written = Written::default();

    let mut table = out.table(
        "whistles",
        WHISTLE_COLUMNS,
        total(|l| u64::from(l.counts.whistles)),
    )?;
    each_story(
        tree,
        lives,
        |l| l.counts.whistles > 0,
        |event, _, place, story| {
            for whistle in &story.whistles {
                written.whistles += 1;
                table
                    .row()
                    .int(written.whistles)
                    .int(event)
                    .text(place.code(whistle.level))
                    .text(whistle.note)
                    .text(&place.center(whistle.level))
                    .timestamp(whistle.blown_at);
                table.end_row()?;
            }
            Ok(())
        },
    )?;
    table.finish()?;

    let mut table = out.table(
        "summonses",
        SUMMONS_COLUMNS,
        total(|l| u64::from(l.counts.summonses)),
    )?;
    let mut whistles = 0;
    each_story(
        tree,
        lives,
        |l| l.counts.whistles > 0,
        |event, _, place, story| {
            for summons in &story.summonses {
                written.summonses += 1;
                table
                    .row()
                    .int(written.summonses)
                    .int(whistles + 1 + i64::from(summons.whistle))
                    .int(event)
                    .text(&place.department(summons.department))
                    .text(summons.status.as_str())
                    .timestamp(summons.report_in_due)
                    .timestamp(summons.handling_due)
                    .opt_timestamp(summons.reported_in_at)
                    .opt_timestamp(summons.done_at)
                    .opt_text(summons.decline_reason)
                    .opt_timestamp(summons.extension_until)
                    .opt_text(summons.extension_reason)
                    .opt_text(summons.feedback)
                    .timestamp(summons.updated_at)
                    .text(&place.grid.code)
                    .int(summons.overdue_marks)
                    .int(0)
                    .int(summons.extensions);
                table.end_row()?;
            }
            whistles += story.whistles.len() as i64;
            Ok(())
        },
    )?;
    table.finish()?;

    let mut table = out.table(
        "timeline",
        TIMELINE_COLUMNS,
        total(|l| u64::from(l.counts.entries)),
    )?;
    let (mut whistles, mut summonses) = (0, 0);
    each_story(
        tree,
        lives,
        |_| true,
        |event, life, place, story| {
            for entry in &story.entries {
                written.timeline += 1;
                let row = Row::of(entry, life, place, story, whistles);
                table
                    .row()
                    .int(written.timeline)
                    .int(event)
                    .opt_int(entry.summons.map(|s| summonses + 1 + i64::from(s)))
                    .text(entry.kind.as_str())
                    .text(&row.actor)
                    .text(row.role)
                    .opt_text(row.actor_department.as_deref())
                    .opt_text(row.department.as_deref())
                    .text(&place.grid.code)
                    .opt_text(entry.before)
                    .opt_text(entry.after)
                    .text(&row.detail.to_string())
                    .timestamp(entry.at)
                    // History is in commit order already.
                    .int(written.timeline);
                table.end_row()?;
            }
            whistles += story.whistles.len() as i64;
            summonses += story.summonses.len() as i64;
            Ok(())
        },
    )?;
    table.finish()?;
    Ok(written)
}

/// The text columns of a timeline row.
struct Row {
    actor: String,
    role: &'static str,
    actor_department: Option<String>,
    department: Option<String>,
    detail: Value,
}

impl Row {
    /// `whistles`: the whistle ids before this event's first.
    fn of(entry: &Entry, life: &Life, place: &Place<'_>, story: &Story, whistles: i64) -> Self {
        let summons_department = entry
            .summons
            .and_then(|s| story.summonses.get(s as usize))
            .map(|s| place.department(s.department));
        let (actor, role, actor_department) = match entry.actor {
            Actor::Reporter => match life.channel {
                EventChannel::GridTerminal => (place.grid_worker(), "GRID_WORKER", None),
                EventChannel::Hotline12345 => ("12345热线".to_owned(), "HOTLINE", None),
                EventChannel::Online => ("网上诉求平台".to_owned(), "SYSTEM", None),
                EventChannel::Window | EventChannel::LetterVisit => {
                    (place.center(Level::Township), "DISPATCHER", None)
                }
            },
            Actor::Center(level) => (place.center(level), "DISPATCHER", None),
            Actor::Department(s) => {
                let short = story
                    .summonses
                    .get(s as usize)
                    .map_or("", |s| DEPARTMENT_TYPES[s.department as usize].2);
                (
                    format!("{short}工作人员"),
                    "DEPARTMENT_STAFF",
                    summons_department.clone(),
                )
            }
            Actor::Supervisor(level) => {
                let unit = match level {
                    Level::Township => COUNTIES[place.county_index].name,
                    Level::County => "辽源市",
                };
                (format!("{unit}综治中心督办科"), "SUPERVISOR", None)
            }
            Actor::Watcher => ("督办".to_owned(), "SYSTEM", None),
            Actor::Revisitor => match life.channel {
                EventChannel::Hotline12345 => ("12345热线".to_owned(), "HOTLINE", None),
                _ => (place.grid_worker(), "GRID_WORKER", None),
            },
        };
        let mut department = summons_department;
        let detail = match entry.detail {
            Detail::Reported => {
                let mut detail = json!({
                    "channel": life.channel.as_str(),
                    "urgency": life.urgency.as_str(),
                });
                // A letter or visit is registered with the county's petitions bureau.
                if life.channel == EventChannel::LetterVisit {
                    detail["sentTo"] = json!(format!("{}-XF", place.county));
                }
                detail
            }
            Detail::Note(note) => json!({ "note": note }),
            Detail::Reason(reason) => json!({ "reason": reason }),
            Detail::Whistle {
                whistle,
                level,
                note,
                report_in_due,
                handling_due,
            } => json!({
                "whistle": whistles + 1 + i64::from(whistle),
                "addressee": department,
                "summonedBy": place.code(level),
                "note": note,
                "reportInDueAt": rfc3339(report_in_due),
                "handlingDueAt": rfc3339(handling_due),
            }),
            Detail::ReportIn { late: true } => json!({ "late": true }),
            Detail::ReportIn { late: false } | Detail::Empty => json!({}),
            Detail::Feedback { text, done, late } => {
                let mut detail = json!({ "text": text, "done": done });
                if late {
                    detail["late"] = json!(true);
                }
                detail
            }
            Detail::ExtensionRequested { until, reason } => {
                json!({ "until": rfc3339(until), "reason": reason })
            }
            Detail::ExtensionDecided { granted } => json!({ "granted": granted }),
            Detail::SummonsOverdue {
                handling,
                due,
                level,
            } => {
                let overdue = json!({
                    "missed": if handling { "handling" } else { "reportIn" },
                    "dueAt": rfc3339(due),
                    "summonedBy": place.code(level),
                });
                supervised(entry, overdue, place.above(level))
            }
            Detail::EventOverdue { due, level } => {
                let overdue = json!({
                    "missed": "event",
                    "dueAt": rfc3339(due),
                    "handling": place.code(level),
                });
                supervised(entry, overdue, place.above(level))
            }
            Detail::Escalated { reason } => json!({
                "reason": reason,
                "from": place.township,
                "to": place.county,
            }),
            Detail::Mediation { note } => {
                let justice = format!("{}-SF", place.county);
                department = Some(justice.clone());
                json!({
                    "kind": "PEOPLES",
                    "mediator": format!("team {}", place.grid.code),
                    "note": note,
                    "tier": { "from": "WINDOW", "to": "MEDIATION" },
                    "mediation": null,
                    "sentTo": justice,
                })
            }
            Detail::MediationRecorded { agreement } => json!({
                "outcome": if agreement.is_some() { "AGREEMENT" } else { "FAILED" },
                "agreement": agreement.unwrap_or(""),
                "mediation": null,
                "sentTo": null,
            }),
            Detail::Court { reason } => {
                let court = format!("{}-FY", place.county);
                department = Some(court.clone());
                json!({
                    "reason": reason,
                    "tier": { "from": "MEDIATION", "to": "LITIGATION" },
                    "mediation": null,
                    "sentTo": court,
                })
            }
            Detail::Resolved { tier, summary } => {
                json!({ "tier": ResolutionTier::as_str(tier), "summary": summary })
            }
            Detail::Revisit {
                satisfaction,
                comment,
            } => json!({ "satisfaction": satisfaction, "comment": comment }),
        };
        Self {
            actor,
            role,
            actor_department,
            department,
            detail,
        }
    }
}

/// An OVERDUE entry's detail, or its SUPERVISION entry's: the level above is told.
fn supervised(entry: &Entry, overdue: Value, supervisor: &str) -> Value {
    if entry.kind == schema::enums::TimelineKind::Supervision {
        json!({ "supervisor": supervisor, "overdue": overdue })
    } else {
        overdue
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tokio::sync::mpsc;

    use super::super::copy::Message;
    use super::super::{Scale, generate};
    use super::*;

    /// The rows of the tables asked for, as COPY text split into fields, and whether
    /// each table's announced total was its row count.
    fn generated(tables: &[&str]) -> HashMap<String, Vec<Vec<String>>> {
        let (sender, mut receiver) = mpsc::channel(4);
        let generator = std::thread::spawn(move || {
            let _ = generate::generate(&Sender::new(sender), Scale::Small, 20240101);
        });
        let mut rows: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        let mut current: Option<(&str, u64)> = None;
        while let Some(message) = receiver.blocking_recv() {
            match message {
                Message::Begin { table, total, .. } => current = Some((table, total)),
                Message::Rows { bytes, .. } => {
                    let Some((table, _)) = current else { continue };
                    if !tables.contains(&table) {
                        continue;
                    }
                    let text = String::from_utf8(bytes).expect("UTF-8 rows");
                    let kept = rows.entry(table.to_owned()).or_default();
                    kept.extend(
                        text.lines()
                            .map(|line| line.split('\t').map(str::to_owned).collect()),
                    );
                }
                Message::End => {
                    if let Some((table, total)) = current.take()
                        && tables.contains(&table)
                    {
                        let written = rows.get(table).map_or(0, Vec::len);
                        assert_eq!(written as u64, total, "{table}: rows against the total");
                    }
                }
            }
        }
        generator.join().expect("the generator finishes");
        rows
    }

    #[test]
    fn the_small_data_set_has_a_consistent_workflow_history() {
        let tables = ["events", "whistles", "summonses", "timeline"];
        let rows = generated(&tables);
        let table = |name: &str| rows.get(name).map_or(&[][..], Vec::as_slice);
        for name in tables {
            assert!(!table(name).is_empty(), "{name} is empty");
            // Ids from 1, in order.
            for (index, row) in table(name).iter().enumerate() {
                assert_eq!(row[0], (index + 1).to_string(), "{name}");
            }
        }
        let events = table("events");
        assert_eq!(events.len(), 1_500);
        let whistle_events: Vec<&str> = table("whistles").iter().map(|r| r[1].as_str()).collect();
        let summons_events: Vec<&str> = table("summonses").iter().map(|r| r[2].as_str()).collect();
        for summons in table("summonses") {
            let whistle: usize = summons[1].parse().expect("a whistle id");
            assert_eq!(whistle_events[whistle - 1], summons[2]);
            assert!(summons[6] >= summons[5], "handling due after report-in due");
        }
        let end = "2026-11-01 00:00:00+08";
        let mut previous: Option<(&str, &str)> = None;
        let mut kinds: HashMap<&str, Vec<&str>> = HashMap::new();
        for entry in table("timeline") {
            let (event, at) = (entry[1].as_str(), entry[12].as_str());
            assert!(at < end, "{entry:?}");
            if entry[2] != "\\N" {
                let summons: usize = entry[2].parse().expect("a summons id");
                assert_eq!(summons_events[summons - 1], event);
            }
            if let Some((last_event, last_at)) = previous
                && last_event == event
            {
                assert!(last_at <= at, "{entry:?}");
            }
            serde_json::from_str::<Value>(&entry[11]).expect("JSON detail");
            previous = Some((event, at));
            kinds.entry(event).or_default().push(entry[3].as_str());
        }
        for event in events {
            let (id, status, reported_at) = (event[0].as_str(), event[6].as_str(), &event[13]);
            let kinds = &kinds[id];
            assert_eq!(kinds[0], "REPORTED");
            assert!(reported_at.as_str() < end);
            if status == "CLOSED" {
                assert!(kinds.contains(&"RESOLVED") && kinds.last() == Some(&"CLOSED"));
                let satisfaction: i64 = event[12].parse().expect("a satisfaction");
                assert!(satisfaction >= 3);
            }
            // accepted_at is NULL exactly for events never accepted.
            assert_eq!(
                event[18] == "\\N",
                !kinds.contains(&"ACCEPTED"),
                "{event:?}"
            );
            let reworks: usize = event[19].parse().expect("reworks");
            assert_eq!(reworks, kinds.iter().filter(|k| **k == "REOPENED").count());
        }
    }

    #[test]
    fn instants_are_written_as_utc() {
        // 2024-11-01T00:00:00+08:00.
        assert_eq!(
            rfc3339(super::super::time::EVENTS_START),
            "2024-10-31T16:00:00Z"
        );
        assert_eq!(rfc3339(59), "1970-01-01T00:00:59Z");
    }
}
