//! A read replica of the primary: where queries read while it answers and keeps up.
//! Changes, the timeline's signals and the audit of personal reads stay on the primary
//! ([`super::Store::for_query`] says which is which).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::StoreError;

/// How long a check waits for the replica's answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The replica, and whether queries read from it now (as its last check found).
pub struct ReadReplica {
    pool: PgPool,
    max_lag: Duration,
    /// Whether the last check found it current: what every query reads, without a lock.
    usable: AtomicBool,
    /// What the last check found.
    last: Mutex<ReplicaState>,
    /// How far the standby's replay has come, by the checks' clock.
    replayed: Mutex<Replayed>,
}

/// What a check found.
#[derive(Debug, Clone)]
pub enum ReplicaState {
    /// Answering, at most `max_lag` behind the primary (zero: caught up, or a server
    /// that is not in recovery, such as a logical replica or a proxy's reader endpoint).
    Current(Duration),
    /// Answering, but further behind than `max_lag`: queries read from the primary.
    Behind(Duration),
    /// Not answering (why), or not within [`CHECK_TIMEOUT`]: queries read from the
    /// primary.
    Unreachable(String),
}

impl ReplicaState {
    /// Whether queries read from the replica in this state.
    pub fn is_current(&self) -> bool {
        matches!(self, Self::Current(_))
    }
}

impl ReadReplica {
    /// A replica read from once a check finds it current.
    pub fn new(pool: PgPool, max_lag: Duration) -> Self {
        Self {
            pool,
            max_lag,
            usable: AtomicBool::new(false),
            last: Mutex::new(ReplicaState::Unreachable("not checked yet".to_owned())),
            replayed: Mutex::new(Replayed::default()),
        }
    }

    /// Checks the replica once and routes queries by what it finds.
    pub async fn check(&self) -> ReplicaState {
        // A server not in recovery is current. A standby's position: the WAL it has
        // received and replayed, and the age of the last transaction it replayed.
        let position = sqlx::query_as::<_, (bool, Option<i64>, Option<i64>, Option<f64>)>(
            "SELECT pg_is_in_recovery(), \
               pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')::int8, \
               pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::int8, \
               extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8",
        )
        .fetch_one(&self.pool);
        let answer = tokio::time::timeout(CHECK_TIMEOUT, position).await;
        let mut replayed = self.replayed.lock().unwrap_or_else(|p| p.into_inner());
        let state = match answer {
            Err(_) => {
                replayed.forget();
                ReplicaState::Unreachable(format!("no answer within {} s", CHECK_TIMEOUT.as_secs()))
            }
            Ok(Err(error)) => {
                replayed.forget();
                ReplicaState::Unreachable(StoreError::from(error).to_string())
            }
            Ok(Ok((in_recovery, received, replayed_to, age))) => {
                let lag = if in_recovery {
                    let age = age.map(|s| Duration::from_secs_f64(s.clamp(0.0, 1e9)));
                    replayed.lag(Instant::now(), received.zip(replayed_to), age)
                } else {
                    // Promoted, or not a standby: no replay to follow.
                    replayed.forget();
                    Some(Duration::ZERO)
                };
                // No transaction replayed yet: taken as too far behind.
                match lag {
                    Some(lag) if lag <= self.max_lag => ReplicaState::Current(lag),
                    lag => ReplicaState::Behind(lag.unwrap_or(Duration::from_secs(1_000_000_000))),
                }
            }
        };
        drop(replayed);
        self.usable.store(state.is_current(), Ordering::Relaxed);
        if let Ok(mut last) = self.last.lock() {
            *last = state.clone();
        }
        state
    }

    /// What the last check found.
    pub fn last(&self) -> ReplicaState {
        self.last.lock().map_or_else(
            |_| ReplicaState::Unreachable("not known".to_owned()),
            |last| last.clone(),
        )
    }

    /// The replica's pool, while queries read from it.
    pub(super) fn pool(&self) -> Option<&PgPool> {
        self.is_usable().then_some(&self.pool)
    }

    /// Whether queries read from the replica now.
    pub fn is_usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }
}

/// How far behind the primary a standby's data is at most, from the checks: the time
/// since the last check whose received WAL the standby has since replayed. The age of the
/// last transaction it replayed bounds it too, and is the finer bound under a steady
/// stream of changes (the checks come a second apart), but not after a quiet spell: after
/// a minute with no changes on the primary, a standby that has just received a new
/// transaction and not yet replayed it (a matter of milliseconds) is a minute behind by
/// that measure. The lag is the lesser of the two.
#[derive(Default)]
struct Replayed {
    /// Checks whose received WAL is not yet replayed: when, and up to where.
    pending: VecDeque<(Instant, i64)>,
    /// The last check whose received WAL has been replayed.
    as_of: Option<Instant>,
}

/// Checks remembered while the standby is behind; past that, the oldest are let go and
/// the lag is counted from an earlier check (an overestimate, never an underestimate).
const PENDING: usize = 256;

impl Replayed {
    /// The lag at `now`, when the standby has received up to `received` and replayed up
    /// to `replayed`; `None` until a check's WAL has been replayed (a standby found
    /// behind at its first check).
    fn observe(&mut self, now: Instant, received: i64, replayed: i64) -> Option<Duration> {
        // Less received than a check before saw: another server behind the same address
        // (a reader endpoint's other standby), whose positions are not comparable.
        if self
            .pending
            .back()
            .is_some_and(|&(_, last)| received < last)
        {
            self.forget();
        }
        self.pending.push_back((now, received));
        while let Some(&(at, position)) = self.pending.front()
            && position <= replayed
        {
            self.as_of = Some(at);
            self.pending.pop_front();
        }
        if self.pending.len() > PENDING {
            self.pending.pop_front();
        }
        self.as_of.map(|at| now.saturating_duration_since(at))
    }

    /// A standby's lag at `now`, from the WAL it has received and replayed (`None`: not
    /// streaming, replaying from an archive) and the age of the last transaction it
    /// replayed (`None`: none yet); `None` when neither tells.
    fn lag(
        &mut self,
        now: Instant,
        position: Option<(i64, i64)>,
        age: Option<Duration>,
    ) -> Option<Duration> {
        let seen = position.and_then(|(received, replayed)| self.observe(now, received, replayed));
        match (seen, age) {
            (Some(seen), Some(age)) => Some(seen.min(age)),
            (seen, age) => seen.or(age),
        }
    }

    /// The standby could not be asked: what it replayed since is not known.
    fn forget(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_lag_is_the_lesser_of_the_checks_bound_and_the_last_transactions_age() {
        let start = Instant::now();
        let mut replayed = Replayed::default();
        let ms = Duration::from_millis;
        // Changes streaming in: every check finds a little received and not replayed,
        // the last transaction replayed 10 ms ago; the checks alone would say a second.
        assert_eq!(
            replayed.lag(start, Some((100, 90)), Some(ms(10))),
            Some(ms(10))
        );
        for s in 1..5 {
            let at = start + s * SECOND;
            let position = Some((100 + i64::from(s) * 100, 95 + i64::from(s) * 100));
            assert_eq!(replayed.lag(at, position, Some(ms(10))), Some(ms(10)));
        }
        // A quiet minute, then a transaction received and not yet replayed: its age
        // would say a minute; the checks say a second.
        for s in 5..65 {
            assert_eq!(
                replayed.lag(start + s * SECOND, Some((500, 500)), Some(s * SECOND)),
                Some(Duration::ZERO)
            );
        }
        assert_eq!(
            replayed.lag(start + 65 * SECOND, Some((580, 500)), Some(60 * SECOND)),
            Some(SECOND)
        );
        // Not streaming: the age alone; nothing replayed yet: nothing to tell.
        let mut archived = Replayed::default();
        assert_eq!(archived.lag(start, None, Some(ms(700))), Some(ms(700)));
        assert_eq!(archived.lag(start, None, None), None);
    }

    #[test]
    fn a_standby_that_replays_what_it_receives_is_not_behind_after_the_primary_was_idle() {
        let start = Instant::now();
        let mut replayed = Replayed::default();
        // A minute of checks with nothing new.
        for s in 0..60 {
            assert_eq!(
                replayed.observe(start + s * SECOND, 100, 100),
                Some(Duration::ZERO)
            );
        }
        // A new transaction received and not yet replayed when the check asks: the
        // standby is a second behind at most, not the minute since its last transaction.
        assert_eq!(
            replayed.observe(start + 60 * SECOND, 180, 100),
            Some(SECOND)
        );
        assert_eq!(
            replayed.observe(start + 61 * SECOND, 180, 180),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_standby_that_stopped_replaying_falls_behind_by_the_time_since() {
        let start = Instant::now();
        let mut replayed = Replayed::default();
        assert_eq!(replayed.observe(start, 100, 100), Some(Duration::ZERO));
        // Replay paused at 100 while the primary goes on.
        for s in 1..=10 {
            let lag = replayed.observe(start + s * SECOND, 100 + i64::from(s) * 10, 100);
            assert_eq!(lag, Some(s * SECOND));
        }
        // Resumed: it has replayed what it had received by the fourth second.
        assert_eq!(
            replayed.observe(start + 11 * SECOND, 210, 140),
            Some(7 * SECOND)
        );
        assert_eq!(
            replayed.observe(start + 12 * SECOND, 220, 220),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn another_standby_behind_the_same_address_is_not_held_to_the_first_ones_positions() {
        let start = Instant::now();
        let mut replayed = Replayed::default();
        assert_eq!(replayed.observe(start, 900, 800), None);
        // The address now reaches a standby of lower positions, caught up with them.
        assert_eq!(
            replayed.observe(start + SECOND, 300, 300),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_standby_behind_at_the_first_check_or_after_an_outage_has_no_lag_of_its_own() {
        let start = Instant::now();
        let mut replayed = Replayed::default();
        // Found behind: the caller falls back on the last transaction's age.
        assert_eq!(replayed.observe(start, 500, 100), None);
        assert_eq!(replayed.observe(start + SECOND, 510, 400), None);
        assert_eq!(
            replayed.observe(start + 2 * SECOND, 520, 505),
            Some(2 * SECOND)
        );
        // Unreachable for a while, then caught up: not behind by the outage.
        replayed.forget();
        assert_eq!(
            replayed.observe(start + 60 * SECOND, 900, 900),
            Some(Duration::ZERO)
        );
    }
}
