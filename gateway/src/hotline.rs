//! The 12345 hotline job: every `poll_interval_s`, pull the open service requests of each
//! open311 system into events (channel HOTLINE_12345) and push the status of its events
//! back. `serve` runs it in the background; `gateway hotline-sync` runs one round.
//!
//! Replicas coordinate through PostgreSQL: a round holds the system's advisory lock (a
//! replica finding it taken skips the round), and each request's event is claimed by the
//! unique key on the request, so that even two rounds at once make one event. A hotline
//! that is down fails the round, which is logged and tried again next time; nothing is
//! written until it answers.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use connectors::open311::{RequestQuery, RequestStatus, ServiceRequest};
use connectors::{ConnectorKind, Department, Hotline, Open311BuildError, Open311Error};
use schema::enums::{EventCategory, EventStatus};
use schema::store::NewHotlineEvent;
use schema::{Store, StoreError};

use crate::app::{StartError, load_departments};
use crate::config::Config;
use crate::database;

/// How far before the last pull's end the next one starts: requests updated just before
/// it may reach the hotline's index a little late.
const OVERLAP: TimeDelta = TimeDelta::minutes(5);

/// Searches one pull may make while halving windows the hotline answered in full: a
/// server that ignores the dates answers every window in full, and is reported instead
/// of searched second by second.
const MAX_SEARCHES: usize = 512;

/// Statuses pushed per round at most; the rest go next round.
const PUSH_BATCH: i64 = 500;

/// Titles are cut to this many characters.
const TITLE_CHARS: usize = 60;

/// A sync for each open311 system among `departments` (reached through each one's
/// guard), its events going to `store`.
pub fn syncs<'a>(
    departments: impl IntoIterator<Item = &'a Arc<Department>>,
    store: &Store,
) -> Result<Vec<Arc<HotlineSync>>, Open311BuildError> {
    departments
        .into_iter()
        .filter(|department| department.config().kind == ConnectorKind::Open311)
        .map(|department| {
            let hotline = Arc::new(Hotline::new(department.clone())?);
            Ok(Arc::new(HotlineSync::new(hotline, store.clone())))
        })
        .collect()
}

/// One open311 system and the store its events go to.
pub struct HotlineSync {
    hotline: Arc<Hotline>,
    store: Store,
}

/// A request that became an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub service_request_id: String,
    pub event_id: i64,
    pub category: EventCategory,
    pub jurisdiction_code: String,
}

/// Why a request did not become an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Its service is not mapped to a category (consultations, for instance).
    UnmappedService(String),
    /// The config maps its service to a name that is not a category.
    UnknownCategory(String),
    /// It has no jurisdiction field.
    NoZone(String),
    /// Its jurisdiction field names no jurisdiction of the city.
    UnknownZone(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnmappedService(code) => write!(
                f,
                "service `{code}` becomes no event (it is not in the config's [open311.services])"
            ),
            Self::UnknownCategory(name) => write!(f, "`{name}` is not an event category"),
            Self::NoZone(field) => write!(f, "it has no `{field}`: no jurisdiction to give it"),
            Self::UnknownZone(code) => write!(f, "zone `{code}` is not a jurisdiction of the city"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub service_request_id: String,
    pub reason: SkipReason,
}

/// What one pull found and did.
#[derive(Debug, Clone, Default)]
pub struct Pulled {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Open requests the hotline listed.
    pub seen: usize,
    /// Searches it took: more than one when the hotline's page cap cut answers short.
    pub searches: usize,
    /// Of those, requests that already had their event.
    pub known: usize,
    pub created: Vec<Created>,
    pub skipped: Vec<Skipped>,
}

/// A status the hotline was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub service_request_id: String,
    pub event_id: i64,
    pub status: EventStatus,
    pub shown: RequestStatus,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("pulling service requests failed: {0}")]
    Pull(#[source] Open311Error),
    #[error(
        "the hotline answered {searches} searches in full (open311.max_results = {max_results}) \
         however narrow the window; does it honour start_date and end_date?"
    )]
    Unpageable { searches: usize, max_results: usize },
    #[error("pushing the status of {service_request_id} failed: {source}")]
    Push {
        service_request_id: String,
        #[source]
        source: Open311Error,
    },
    #[error("event status {} has no Open311 status in the config's [open311.statuses]", .0.as_str())]
    UnmappedStatus(EventStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one round did. A failed part is in `errors` and is tried again next round.
#[derive(Debug)]
pub struct RoundReport {
    pub system: String,
    pub name: String,
    /// Another replica held the system's lock: nothing was done.
    pub busy: bool,
    /// `None` when the pull failed (or the round was busy).
    pub pulled: Option<Pulled>,
    pub pushed: Vec<Pushed>,
    pub errors: Vec<SyncError>,
}

impl RoundReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl HotlineSync {
    pub fn new(hotline: Arc<Hotline>, store: Store) -> Self {
        Self { hotline, store }
    }

    pub fn hotline(&self) -> &Hotline {
        &self.hotline
    }

    /// Pulls, then pushes, under the system's lock. Never fails as a whole: what went
    /// wrong is in the report.
    pub async fn round(&self) -> RoundReport {
        let system = self.hotline.code().to_owned();
        let mut report = RoundReport {
            system: system.clone(),
            name: self.hotline.name().to_owned(),
            busy: false,
            pulled: None,
            pushed: Vec::new(),
            errors: Vec::new(),
        };
        let lock = match self.store.try_lock_sync(&system).await {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                report.busy = true;
                return report;
            }
            Err(error) => {
                report.errors.push(error.into());
                return report;
            }
        };
        match self.pull().await {
            Ok(pulled) => report.pulled = Some(pulled),
            Err(error) => report.errors.push(error),
        }
        self.push(&mut report).await;
        if let Err(error) = lock.release().await {
            // The lock goes with its connection in any case.
            tracing::debug!(system = %system, %error, "releasing the hotline lock failed");
        }
        report
    }

    /// New open requests become events; known ones and those that cannot be placed are
    /// passed over.
    async fn pull(&self) -> Result<Pulled, SyncError> {
        let system = self.hotline.code();
        let settings = self.hotline.settings();
        let until = Utc::now();
        let cursor = self.store.sync_cursor(system).await?;
        let pulled_until = cursor
            .as_deref()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| time.with_timezone(&Utc));
        let since = match pulled_until {
            Some(pulled_until) => pulled_until - OVERLAP,
            None => until - TimeDelta::from_std(settings.lookback).unwrap_or(TimeDelta::days(30)),
        };
        let (requests, searches) = self.search(since, until, settings.max_results).await?;
        let mut pulled = Pulled {
            since,
            until,
            seen: requests.len(),
            searches,
            ..Pulled::default()
        };
        let ids: Vec<String> = requests
            .iter()
            .map(|r| r.service_request_id.clone())
            .collect();
        let known: HashSet<String> = self
            .store
            .known_hotline_requests(system, &ids)
            .await?
            .into_iter()
            .collect();
        let zones: Vec<String> = requests
            .iter()
            .filter_map(|r| r.extension(&settings.jurisdiction_field))
            .collect();
        let jurisdictions: HashSet<String> = self
            .store
            .known_jurisdictions(&zones)
            .await?
            .into_iter()
            .collect();
        let mut done: HashSet<&str> = HashSet::new();
        for request in &requests {
            let id = request.service_request_id.as_str();
            if known.contains(id) || !done.insert(id) {
                pulled.known += 1;
                continue;
            }
            let new = match self.event_of(request, &jurisdictions) {
                Ok(new) => new,
                Err(reason) => {
                    log_skip(system, id, &reason);
                    pulled.skipped.push(Skipped {
                        service_request_id: id.to_owned(),
                        reason,
                    });
                    continue;
                }
            };
            match self.store.insert_hotline_event(&new).await? {
                Some(event_id) => pulled.created.push(Created {
                    service_request_id: id.to_owned(),
                    event_id,
                    category: new.category,
                    jurisdiction_code: new.jurisdiction_code,
                }),
                // Pulled by another round meanwhile.
                None => pulled.known += 1,
            }
        }
        // Never back, should a pull that began earlier end later.
        let until = pulled_until.map_or(until, |pulled| pulled.max(until));
        self.store
            .set_sync_cursor(
                system,
                &until.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            )
            .await?;
        Ok(pulled)
    }

    /// Every open request updated in `[since, until]`, and the searches it took. An
    /// answer as long as the hotline's page cap may have been cut short: that window is
    /// searched again as two halves, until every answer is whole. The cursor moves past
    /// `until` only once all of it was read (a failure leaves it for the next round).
    async fn search(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        max_results: usize,
    ) -> Result<(Vec<ServiceRequest>, usize), SyncError> {
        let mut windows = vec![(since, until)];
        let mut found = Vec::new();
        let mut searches = 0;
        while let Some((start, end)) = windows.pop() {
            if searches == MAX_SEARCHES {
                return Err(SyncError::Unpageable {
                    searches,
                    max_results,
                });
            }
            searches += 1;
            let page = self
                .hotline
                .requests(&RequestQuery {
                    start: Some(start),
                    end: Some(end),
                    status: Some(RequestStatus::Open),
                })
                .await
                .map_err(SyncError::Pull)?;
            let span = end - start;
            if page.len() >= max_results {
                if span > TimeDelta::seconds(1) {
                    // Ends are inclusive: a request at the middle comes twice, and is
                    // known the second time.
                    let middle = start + span / 2;
                    windows.push((middle, end));
                    windows.push((start, middle));
                    continue;
                }
                tracing::warn!(
                    system = %self.hotline.code(),
                    %start,
                    max_results,
                    "a one-second window answered in full: requests beyond the cap may be missed"
                );
            }
            found.extend(page);
        }
        Ok((found, searches))
    }

    fn event_of(
        &self,
        request: &ServiceRequest,
        jurisdictions: &HashSet<String>,
    ) -> Result<NewHotlineEvent, SkipReason> {
        let settings = self.hotline.settings();
        let name = settings
            .category(&request.service_code)
            .ok_or_else(|| SkipReason::UnmappedService(request.service_code.clone()))?;
        let category = EventCategory::parse(name)
            .ok_or_else(|| SkipReason::UnknownCategory(name.to_owned()))?;
        let field = &settings.jurisdiction_field;
        let zone = request
            .extension(field)
            .ok_or_else(|| SkipReason::NoZone(field.clone()))?;
        if !jurisdictions.contains(&zone) {
            return Err(SkipReason::UnknownZone(zone));
        }
        let text = request
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .or(request.service_name.as_deref())
            .unwrap_or(request.service_code.as_str());
        let mut description = text.to_owned();
        if let Some(address) = request.address.as_deref().filter(|a| !a.is_empty()) {
            description.push_str(&format!("\n地址：{address}"));
        }
        description.push_str(&format!("\n12345工单号：{}", request.service_request_id));
        Ok(NewHotlineEvent {
            system_code: self.hotline.code().to_owned(),
            service_request_id: request.service_request_id.clone(),
            service_code: request.service_code.clone(),
            title: title(request.service_name.as_deref(), text),
            description,
            category,
            jurisdiction_code: zone,
            address: request.address.clone(),
            reported_at: request.requested_datetime.with_timezone(&Utc),
            due_at: request.expected_datetime.map(|d| d.with_timezone(&Utc)),
        })
    }

    /// Tells the hotline the status of every event whose status changed since it last
    /// heard. Stops at the first failure that would fail the rest too (the hotline down).
    async fn push(&self, report: &mut RoundReport) {
        let system = self.hotline.code();
        let changes = match self.store.hotline_status_changes(system, PUSH_BATCH).await {
            Ok(changes) => changes,
            Err(error) => {
                report.errors.push(error.into());
                return;
            }
        };
        for change in changes {
            let Some(shown) = self.hotline.settings().status(change.status.as_str()) else {
                report.errors.push(SyncError::UnmappedStatus(change.status));
                continue;
            };
            let id = &change.service_request_id;
            if let Err(source) = self
                .hotline
                .update_status(id, shown, status_notes(change.status))
                .await
            {
                let transient = source.transient();
                report.errors.push(SyncError::Push {
                    service_request_id: id.clone(),
                    source,
                });
                if transient {
                    break;
                }
                continue;
            }
            match self
                .store
                .mark_hotline_pushed(system, id, change.pushed_status, change.status)
                .await
            {
                Ok(_) => report.pushed.push(Pushed {
                    service_request_id: id.clone(),
                    event_id: change.event_id,
                    status: change.status,
                    shown,
                }),
                Err(error) => {
                    report.errors.push(error.into());
                    break;
                }
            }
        }
    }
}

/// One round for every open311 system of the configuration, with migrations applied
/// first as `serve` would: what `gateway hotline-sync` does. Empty without such a system.
pub async fn sync_once(config: &Config) -> Result<Vec<RoundReport>, StartError> {
    let departments = load_departments(config)?;
    let open311: Vec<Arc<Department>> = departments
        .iter()
        .filter(|d| d.kind == ConnectorKind::Open311)
        .map(|d| Department::new(d.clone()).map(Arc::new))
        .collect::<Result<_, _>>()?;
    if open311.is_empty() {
        return Ok(Vec::new());
    }
    let store = database::job_store(config).await?;
    let mut reports = Vec::new();
    for sync in syncs(&open311, &store)? {
        reports.push(sync.round().await);
    }
    Ok(reports)
}

fn log_skip(system: &str, id: &str, reason: &SkipReason) {
    match reason {
        SkipReason::UnmappedService(_) => {
            tracing::info!(system, request = id, %reason, "hotline request passed over");
        }
        _ => tracing::warn!(system, request = id, %reason, "hotline request refused"),
    }
}

/// `邻里纠纷：兴华社区楼上住户连续多日夜间装修`: the service, then what the caller said
/// up to the first pause.
fn title(service: Option<&str>, text: &str) -> String {
    let first = text
        .split(['，', '。', '；', ',', ';', '\n'])
        .find(|part| !part.trim().is_empty())
        .unwrap_or(text)
        .trim();
    let title = match service.filter(|s| !s.is_empty() && *s != first) {
        Some(service) => format!("{service}：{first}"),
        None => first.to_owned(),
    };
    title.chars().take(TITLE_CHARS).collect()
}

/// What the hotline's operators read back to the citizen.
fn status_notes(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Reported => "已登记，等待受理。",
        EventStatus::Accepted => "已受理，正在分派责任部门。",
        EventStatus::Dispatched => "已派单，责任部门接到吹哨后报到处置。",
        EventStatus::InProgress => "责任部门正在办理。",
        EventStatus::Resolved => "已办结，等待回访。",
        EventStatus::Closed => "已办结并回访，工单关闭。",
        EventStatus::Rejected => "经核实不属于受理范围，不予受理。",
        EventStatus::Returned => "已退回，重新分派中。",
        EventStatus::Escalated => "已上报上级督办。",
    }
}

impl fmt::Display for RoundReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.system, self.name)?;
        if self.busy {
            return write!(f, "another replica is syncing it; nothing done");
        }
        match &self.pulled {
            Some(pulled) => write!(
                f,
                "{} open requests updated {} – {} ({} searches): {} new events, {} already known, {} skipped",
                pulled.seen,
                pulled.since.format("%Y-%m-%d %H:%M:%S UTC"),
                pulled.until.format("%Y-%m-%d %H:%M:%S UTC"),
                pulled.searches,
                pulled.created.len(),
                pulled.known,
                pulled.skipped.len()
            )?,
            None => write!(f, "nothing pulled")?,
        }
        write!(f, "; {} statuses pushed", self.pushed.len())?;
        if let Some(pulled) = &self.pulled {
            for created in &pulled.created {
                write!(
                    f,
                    "\n  event {} ← {} ({}, {})",
                    created.event_id,
                    created.service_request_id,
                    created.category.as_str(),
                    created.jurisdiction_code
                )?;
            }
            for skipped in &pulled.skipped {
                write!(
                    f,
                    "\n  skipped {}: {}",
                    skipped.service_request_id, skipped.reason
                )?;
            }
        }
        for pushed in &self.pushed {
            write!(
                f,
                "\n  pushed {} (event {}): {} → {}",
                pushed.service_request_id,
                pushed.event_id,
                pushed.status.as_str(),
                pushed.shown
            )?;
        }
        for error in &self.errors {
            write!(f, "\n  error: {error}")?;
        }
        Ok(())
    }
}

/// Schedules a round every `poll_interval_s` for each system.
pub fn schedule(syncs: &[Arc<HotlineSync>], periodic: &mut crate::periodic::Periodic) {
    for sync in syncs {
        let system = sync.hotline().code().to_owned();
        let period = sync.hotline().settings().poll_interval;
        tracing::info!(system = %system, every_s = period.as_secs(), "hotline sync started");
        let sync = sync.clone();
        periodic.every(system, period, move || {
            let sync = sync.clone();
            async move { log_round(&sync.round().await) }
        });
    }
}

fn log_round(report: &RoundReport) {
    let created = report.pulled.as_ref().map_or(0, |p| p.created.len());
    let skipped = report.pulled.as_ref().map_or(0, |p| p.skipped.len());
    let pushed = report.pushed.len();
    let outcome = match (report.busy, report.is_ok()) {
        (true, _) => "busy",
        (false, true) => "ok",
        (false, false) => "failed",
    };
    metrics::counter!("gateway_hotline_rounds_total", "system" => report.system.clone(), "outcome" => outcome)
        .increment(1);
    for (what, count) in [
        ("created", created),
        ("skipped", skipped),
        ("pushed", pushed),
    ] {
        metrics::counter!("gateway_hotline_requests_total", "system" => report.system.clone(), "result" => what)
            .increment(count as u64);
    }
    if report.busy {
        tracing::debug!(system = %report.system, "hotline sync skipped: another replica holds it");
    } else if report.is_ok() {
        if created + pushed > 0 {
            tracing::info!(system = %report.system, created, skipped, pushed, "hotline synced");
        } else {
            tracing::debug!(system = %report.system, skipped, "hotline synced: nothing new");
        }
    } else {
        for error in &report.errors {
            tracing::warn!(system = %report.system, created, pushed, %error, "hotline sync incomplete; retrying next round");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_the_service_and_the_first_clause() {
        assert_eq!(
            title(
                Some("邻里纠纷"),
                "兴华社区楼上住户连续多日夜间装修，噪音扰民。"
            ),
            "邻里纠纷：兴华社区楼上住户连续多日夜间装修"
        );
        assert_eq!(title(None, "路灯不亮"), "路灯不亮");
        assert_eq!(title(Some("路灯"), "路灯"), "路灯");
        assert_eq!(title(None, &"长".repeat(100)).chars().count(), TITLE_CHARS);
    }
}
