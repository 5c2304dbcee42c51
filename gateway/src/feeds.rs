//! Sync from departments: every `[feed]` of the department configs pulled on its
//! interval into the five-element index. `serve` runs it in the background; `gateway
//! feed-sync` runs one round of each.
//!
//! A round holds the department's sync lock (a replica finding it taken skips the round),
//! reads its cursor, and takes pages of changes until one comes short, each page applied
//! with the cursor after it in one transaction: stopped anywhere, the next round resumes
//! where the last page committed, losing and repeating nothing. A department that fails
//! ends the round, which is logged and tried again next time.

use std::fmt;
use std::sync::Arc;

use connectors::{Department, Element};
use schema::enums::ElementType;
use schema::workflow::FeedApplied;
use schema::{Store, StoreError};

use crate::app::{StartError, load_departments};
use crate::config::Config;
use crate::database;
use crate::periodic::Periodic;

/// Pages one round takes at most; the rest wait for the next round.
const MAX_PAGES: usize = 50;

/// One department's feed and the store it goes to.
pub struct FeedSync {
    department: Arc<Department>,
    store: Store,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Department(#[from] connectors::DepartmentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one round did.
#[derive(Debug, Default)]
pub struct FeedReport {
    pub department: String,
    /// Another replica held the feed's lock: nothing was done.
    pub busy: bool,
    pub pages: usize,
    pub applied: FeedApplied,
    /// The cursor the round ended at.
    pub cursor: Option<String>,
    pub errors: Vec<FeedError>,
}

impl FeedReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for FeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.busy {
            return write!(f, "{}: another replica is syncing it", self.department);
        }
        let a = &self.applied;
        write!(
            f,
            "{}: {} page(s), {} created, {} updated, {} unchanged, {} kept from the grid, {} rejected; cursor {}",
            self.department,
            self.pages,
            a.created,
            a.updated,
            a.unchanged,
            a.kept,
            a.rejected.len(),
            self.cursor.as_deref().unwrap_or("-")
        )?;
        for (id, reason) in &a.rejected {
            write!(f, "\n  rejected {id}: {reason}")?;
        }
        for error in &self.errors {
            write!(f, "\n  error: {error}")?;
        }
        Ok(())
    }
}

fn element_type(element: Element) -> Option<ElementType> {
    match element {
        Element::Person => Some(ElementType::Person),
        Element::Place => Some(ElementType::Place),
        Element::Thing => Some(ElementType::Thing),
        Element::Organization => Some(ElementType::Organization),
        Element::Event => None,
    }
}

/// A sync for each department among `departments` with a feed.
pub fn syncs<'a>(
    departments: impl IntoIterator<Item = &'a Arc<Department>>,
    store: &Store,
) -> Vec<Arc<FeedSync>> {
    departments
        .into_iter()
        .filter(|department| department.feed().is_some())
        .map(|department| {
            Arc::new(FeedSync {
                department: department.clone(),
                store: store.clone(),
            })
        })
        .collect()
}

impl FeedSync {
    pub fn code(&self) -> &str {
        &self.department.config().code
    }

    /// Pulls pages under the department's lock. Never fails as a whole: what went wrong
    /// is in the report.
    pub async fn round(&self) -> FeedReport {
        let code = self.code().to_owned();
        let mut report = FeedReport {
            department: code.clone(),
            ..FeedReport::default()
        };
        let Some(feed) = self.department.feed() else {
            return report;
        };
        let Some(element) = element_type(feed.element) else {
            return report;
        };
        let lock = match self.store.try_lock_sync(&code).await {
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
        let mut cursor = match self.store.sync_cursor(&code).await {
            Ok(cursor) => cursor.unwrap_or_else(|| feed.start.clone()),
            Err(error) => {
                report.errors.push(error.into());
                return report;
            }
        };
        for _ in 0..MAX_PAGES {
            let page = match self.department.changes(&cursor).await {
                Ok(page) => page,
                Err(error) => {
                    report.errors.push(error.into());
                    break;
                }
            };
            let Some(next) = page.next else { break };
            let applied = self
                .store
                .apply_feed(&code, element, &feed.authoritative, &page.changes, &next)
                .await;
            match applied {
                Ok(applied) => {
                    let total = &mut report.applied;
                    total.created += applied.created;
                    total.updated += applied.updated;
                    total.unchanged += applied.unchanged;
                    total.kept += applied.kept;
                    total.rejected.extend(applied.rejected);
                }
                Err(error) => {
                    report.errors.push(error.into());
                    break;
                }
            }
            report.pages += 1;
            cursor = next;
            if page.changes.len() < feed.page {
                break;
            }
        }
        report.cursor = Some(cursor);
        if let Err(error) = lock.release().await {
            tracing::debug!(department = %code, %error, "releasing the feed lock failed");
        }
        report
    }
}

/// Schedules a round every feed's `interval_s` for each sync.
pub fn schedule(syncs: &[Arc<FeedSync>], periodic: &mut Periodic) {
    for sync in syncs {
        let code = sync.code().to_owned();
        let period = sync
            .department
            .feed()
            .map(|feed| feed.interval)
            .unwrap_or_default();
        tracing::info!(department = %code, every_s = period.as_secs(), "department feed started");
        let sync = sync.clone();
        periodic.every(code, period, move || {
            let sync = sync.clone();
            async move { log_round(&sync.round().await) }
        });
    }
}

fn log_round(report: &FeedReport) {
    let a = &report.applied;
    let department = report.department.clone();
    let outcome = match (report.busy, report.is_ok()) {
        (true, _) => "busy",
        (false, true) => "ok",
        (false, false) => "failed",
    };
    metrics::counter!("gateway_feed_rounds_total", "department" => department.clone(), "outcome" => outcome)
        .increment(1);
    for (what, count) in [
        ("created", a.created),
        ("updated", a.updated),
        ("kept_from_grid", a.kept),
        ("rejected", a.rejected.len()),
    ] {
        metrics::counter!("gateway_feed_changes_total", "department" => department.clone(), "result" => what)
            .increment(count as u64);
    }
    if report.busy {
        tracing::debug!(department = %report.department, "feed skipped: another replica holds it");
    } else if !report.is_ok() {
        for error in &report.errors {
            tracing::warn!(department = %report.department, created = a.created, updated = a.updated, %error, "feed sync incomplete; retrying next round");
        }
    } else if a.created + a.updated + a.rejected.len() > 0 {
        tracing::info!(department = %report.department, created = a.created, updated = a.updated, kept = a.kept, rejected = a.rejected.len(), "feed synced");
    } else {
        tracing::debug!(department = %report.department, "feed synced: nothing new");
    }
}

/// One round of every department feed of the configuration, with migrations applied
/// first as `serve` would: what `gateway feed-sync` does.
pub async fn sync_once(config: &Config) -> Result<Vec<FeedReport>, StartError> {
    let departments = load_departments(config)?;
    let with_feeds: Vec<Arc<Department>> = departments
        .iter()
        .filter(|d| d.feed.is_some())
        .map(|d| Department::new(d.clone()).map(Arc::new))
        .collect::<Result<_, _>>()?;
    if with_feeds.is_empty() {
        return Ok(Vec::new());
    }
    let store = database::job_store(config).await?;
    let mut reports = Vec::new();
    for sync in syncs(&with_feeds, &store) {
        reports.push(sync.round().await);
    }
    Ok(reports)
}
