//! 考核 over GraphQL: `eventStats` (figures grouped as asked), `jurisdictionRanking` and
//! `departmentRanking` (the evaluation tables), computed by PostgreSQL and scoped like
//! every read. Every figure is defined once in docs/KAOHE.md.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::filters::{EventFilter, check_code, conditions};
use super::resolve::{self, store_error};
use crate::enums::{EventCategory, EventChannel, ResolutionTier};
use crate::error::ApiError;
use crate::store::{Condition, Counts, Dimension, FigureQuery, FigureRow};

/// The most groups one `eventStats` answers; `/export/figures` has no such limit.
pub const MAX_GROUPS: i64 = 10_000;

/// The level a jurisdiction ranking compares.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RankingLevel {
    County,
    Township,
    Community,
    Grid,
}

impl RankingLevel {
    fn dimension(self) -> Dimension {
        match self {
            Self::County => Dimension::County,
            Self::Township => Dimension::Township,
            Self::Community => Dimension::Community,
            Self::Grid => Dimension::Grid,
        }
    }
}

/// The events evaluated: those reported in `[from, until)`.
#[derive(InputObject, Clone, Copy)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Period {
    /// The conditions of the event filter reporting in the period.
    fn conditions(self) -> Result<Vec<Condition>, ApiError> {
        EventFilter {
            reported_from: Some(self.from),
            reported_until: Some(self.until),
            ..EventFilter::default()
        }
        .conditions()
    }
}

/// A jurisdiction or department in a group's key or a ranking.
#[derive(SimpleObject, Clone)]
pub struct Unit {
    pub code: String,
    pub name: String,
}

/// The figures of one group (docs/KAOHE.md defines each). Rates are fractions from 0 to
/// 1, null when their denominator is zero.
pub struct Figures(pub Counts);

#[Object]
impl Figures {
    /// Events reported.
    async fn events(&self) -> i64 {
        self.0.events
    }
    /// Of them, accepted (受理).
    async fn accepted(&self) -> i64 {
        self.0.accepted
    }
    /// Resolved now (办结).
    async fn resolved(&self) -> i64 {
        self.0.resolved
    }
    /// Closed after the revisit.
    async fn closed(&self) -> i64 {
        self.0.closed
    }
    /// Whose own deadline passed while open.
    async fn overdue(&self) -> i64 {
        self.0.overdue
    }
    /// Revisited (回访).
    async fn revisited(&self) -> i64 {
        self.0.revisited
    }
    /// Whose latest revisit was satisfied (4 or 5).
    async fn satisfied(&self) -> i64 {
        self.0.satisfied
    }
    /// Reopened for rework at least once (重办).
    async fn reworked(&self) -> i64 {
        self.0.reworked
    }
    /// Disputes resolved.
    async fn disputes_resolved(&self) -> i64 {
        self.0.disputes_resolved
    }
    /// Of them, settled at the window or in mediation.
    async fn resolved_before_litigation(&self) -> i64 {
        self.0.resolved_before_litigation
    }
    /// Summonses of these events (吹哨).
    async fn summonses(&self) -> i64 {
        self.0.summonses
    }
    /// Summonses due to have reported in: deadline passed or reported in, not declined.
    async fn summonses_due(&self) -> i64 {
        self.0.report_due
    }
    async fn reported_in(&self) -> i64 {
        self.0.reported_in
    }
    async fn reported_in_on_time(&self) -> i64 {
        self.0.reported_in_on_time
    }
    async fn declined(&self) -> i64 {
        self.0.declined
    }
    /// Summonses found late at least once (report-in or handling).
    async fn overdue_summonses(&self) -> i64 {
        self.0.overdue_summonses
    }
    /// Extensions granted (延期).
    async fn extensions(&self) -> i64 {
        self.0.extensions
    }
    /// 响应率: summonses reported in on time ÷ summonses due.
    async fn response_rate(&self) -> Option<f64> {
        self.0.response_rate()
    }
    /// 按时报到率: summonses reported in on time ÷ summonses reported in.
    async fn on_time_report_in_rate(&self) -> Option<f64> {
        self.0.on_time_report_in_rate()
    }
    /// 解决率: resolved ÷ accepted.
    async fn resolution_rate(&self) -> Option<f64> {
        self.0.resolution_rate()
    }
    /// 满意率: satisfied ÷ revisited.
    async fn satisfaction_rate(&self) -> Option<f64> {
        self.0.satisfaction_rate()
    }
    /// 重办率: reworked ÷ resolved at least once.
    async fn rework_rate(&self) -> Option<f64> {
        self.0.rework_rate()
    }
    /// 超期率: overdue ÷ accepted.
    async fn overdue_rate(&self) -> Option<f64> {
        self.0.overdue_rate()
    }
    /// Overdue summonses ÷ summonses.
    async fn summons_overdue_rate(&self) -> Option<f64> {
        self.0.summons_overdue_rate()
    }
    /// 诉前化解率: disputes resolved before litigation ÷ disputes resolved.
    async fn share_before_litigation(&self) -> Option<f64> {
        self.0.share_before_litigation()
    }
    /// Mean hours from report to (latest) resolution, over resolved events.
    async fn mean_handling_hours(&self) -> Option<f64> {
        self.0.handling_hours_mean
    }
    /// The 90th percentile of the same.
    async fn p90_handling_hours(&self) -> Option<f64> {
        self.0.handling_hours_p90
    }
}

/// One group of `eventStats`: the key fields grouped by (the others null) and its figures.
pub struct StatsGroup(FigureRow);

impl StatsGroup {
    fn key(&self, dimension: Dimension) -> Option<&crate::store::KeyValue> {
        self.0.key.iter().find(|key| key.dimension == dimension)
    }

    fn unit(&self, dimension: Dimension) -> Option<Unit> {
        self.key(dimension).map(|key| Unit {
            code: key.value.clone(),
            name: key.name.clone().unwrap_or_default(),
        })
    }

    fn text(&self, dimension: Dimension) -> Option<String> {
        self.key(dimension).map(|key| key.value.clone())
    }
}

#[Object]
impl StatsGroup {
    async fn county(&self) -> Option<Unit> {
        self.unit(Dimension::County)
    }
    async fn township(&self) -> Option<Unit> {
        self.unit(Dimension::Township)
    }
    async fn community(&self) -> Option<Unit> {
        self.unit(Dimension::Community)
    }
    async fn grid(&self) -> Option<Unit> {
        self.unit(Dimension::Grid)
    }
    async fn department(&self) -> Option<Unit> {
        self.unit(Dimension::Department)
    }
    async fn category(&self) -> Option<EventCategory> {
        self.key(Dimension::Category)
            .and_then(|key| EventCategory::parse(&key.value))
    }
    async fn channel(&self) -> Option<EventChannel> {
        self.key(Dimension::Channel)
            .and_then(|key| EventChannel::parse(&key.value))
    }
    async fn tier(&self) -> Option<ResolutionTier> {
        self.key(Dimension::Tier)
            .and_then(|key| ResolutionTier::parse(&key.value))
    }
    /// The day reported, `YYYY-MM-DD` (Beijing time).
    async fn day(&self) -> Option<String> {
        self.text(Dimension::Day)
    }
    /// The Monday of the week reported, `YYYY-MM-DD`.
    async fn week(&self) -> Option<String> {
        self.text(Dimension::Week)
    }
    /// The first day of the month reported, `YYYY-MM-DD`.
    async fn month(&self) -> Option<String> {
        self.text(Dimension::Month)
    }
    async fn figures(&self) -> Figures {
        Figures(self.0.counts.clone())
    }
}

/// One unit of an evaluation table.
#[derive(SimpleObject)]
pub struct RankedUnit {
    /// 1 for the best score; equal scores share a rank; units without a score come last.
    pub rank: i32,
    /// The composite score, 0 to 100 (docs/KAOHE.md); null for a unit without work to
    /// evaluate.
    pub score: Option<f64>,
    pub unit: Unit,
    pub figures: Figures,
}

/// Which overdue rate a ranking scores: a level answers for its events' deadlines, a
/// department for its summonses'.
#[derive(Clone, Copy)]
enum Scored {
    Jurisdiction,
    Department,
}

/// The composite score: a weighted mean of the rates a unit has (docs/KAOHE.md). A unit
/// is scored on work it was given: a level, on events it accepted; a department, on
/// summonses due to be answered (one that only declined is not scored).
fn score(counts: &Counts, scored: Scored) -> Option<f64> {
    let (work, overdue) = match scored {
        Scored::Jurisdiction => (counts.accepted, counts.overdue_rate()),
        Scored::Department => (counts.report_due, counts.summons_overdue_rate()),
    };
    if work == 0 {
        return None;
    }
    let parts = [
        (0.25, counts.response_rate()),
        (0.25, counts.resolution_rate()),
        (0.25, counts.satisfaction_rate()),
        (0.15, overdue.map(|rate| 1.0 - rate)),
        (0.10, counts.rework_rate().map(|rate| 1.0 - rate)),
    ];
    let (weight, sum) = parts
        .iter()
        .filter_map(|(weight, rate)| rate.map(|rate| (weight, weight * rate)))
        .fold((0.0, 0.0), |(w, s), (weight, part)| (w + weight, s + part));
    (weight > 0.0).then(|| (100.0 * sum / weight * 100.0).round() / 100.0)
}

/// Every unit, its figures (zero when it had no events) and its rank by score.
fn rank(units: Vec<(String, String)>, rows: Vec<FigureRow>, scored: Scored) -> Vec<RankedUnit> {
    let mut counts: std::collections::HashMap<String, Counts> = rows
        .into_iter()
        .filter_map(|row| Some((row.key.first()?.value.clone(), row.counts)))
        .collect();
    let mut ranked: Vec<RankedUnit> = units
        .into_iter()
        .map(|(code, name)| {
            let counts = counts.remove(&code).unwrap_or_default();
            RankedUnit {
                rank: 0,
                score: score(&counts, scored),
                unit: Unit { code, name },
                figures: Figures(counts),
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.score.unwrap_or(f64::NEG_INFINITY))
            .then_with(|| a.unit.code.cmp(&b.unit.code))
    });
    let mut previous: Option<(Option<f64>, i32)> = None;
    for (index, unit) in ranked.iter_mut().enumerate() {
        unit.rank = match previous {
            Some((score, rank)) if score == unit.score => rank,
            _ => index as i32 + 1,
        };
        previous = Some((unit.score, unit.rank));
    }
    ranked
}

#[derive(Default)]
pub struct FigureQueries;

#[Object]
impl FigureQueries {
    /// 考核 figures of the events the filter selects, one group per combination of the
    /// `groupBy` dimensions (none: one group for all), in key order. At most 10,000
    /// groups: narrow the filter, group coarser, or read `/export/figures.csv`.
    async fn event_stats(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        #[graphql(default)] group_by: Vec<Dimension>,
    ) -> Result<Vec<StatsGroup>> {
        let mut dimensions: Vec<Dimension> = Vec::with_capacity(group_by.len());
        for dimension in group_by {
            if dimensions.contains(&dimension) {
                return Err(ApiError::bad_input("`groupBy` names a dimension twice").into());
            }
            dimensions.push(dimension);
        }
        let query = FigureQuery {
            dimensions,
            conditions: conditions(&filter)?,
            limit: MAX_GROUPS,
        };
        let rows = resolve::store(ctx)?
            .figures(resolve::scope(ctx)?, &query)
            .await
            .map_err(store_error)?;
        if rows.len() as i64 > MAX_GROUPS {
            return Err(ApiError::bad_input(format!(
                "more than {MAX_GROUPS} groups; narrow the filter, group coarser, or read \
                 /export/figures.csv"
            ))
            .into());
        }
        Ok(rows.into_iter().map(StatsGroup).collect())
    }

    /// The evaluation table of one level: every jurisdiction of `level` the caller sees
    /// (within `jurisdiction` when given), its figures over the events reported in
    /// `period`, its score and rank.
    async fn jurisdiction_ranking(
        &self,
        ctx: &Context<'_>,
        level: RankingLevel,
        period: Period,
        jurisdiction: Option<String>,
    ) -> Result<Vec<RankedUnit>> {
        let scope = resolve::scope(ctx)?;
        let prefix = narrowed(scope.prefix(), jurisdiction.as_deref())?;
        let mut conditions = period.conditions()?;
        conditions.push(Condition::Within(prefix.clone()));
        let store = resolve::store(ctx)?;
        let units = store
            .ranked_units(level.dimension(), &prefix, None)
            .await
            .map_err(store_error)?;
        let rows = store
            .figures(
                scope,
                &FigureQuery {
                    dimensions: vec![level.dimension()],
                    conditions,
                    limit: units.len() as i64,
                },
            )
            .await
            .map_err(store_error)?;
        Ok(rank(units, rows, Scored::Jurisdiction))
    }

    /// The evaluation table of departments: each department the caller sees (those of
    /// `county` when given), its figures over the events reported in `period` it was
    /// summoned to, its score and rank.
    async fn department_ranking(
        &self,
        ctx: &Context<'_>,
        period: Period,
        county: Option<String>,
    ) -> Result<Vec<RankedUnit>> {
        let scope = resolve::scope(ctx)?;
        if let Some(code) = &county
            && (check_code(code)?.len() != 6 || code.ends_with("00"))
        {
            return Err(ApiError::bad_input(format!("`{code}` is not a county's code")).into());
        }
        let prefix = narrowed(scope.prefix(), county.as_deref())?;
        let mut conditions = period.conditions()?;
        conditions.push(Condition::Within(prefix.clone()));
        let store = resolve::store(ctx)?;
        let units = store
            .ranked_units(Dimension::Department, &prefix, scope.summoned())
            .await
            .map_err(store_error)?;
        let rows = store
            .figures(
                scope,
                &FigureQuery {
                    dimensions: vec![Dimension::Department],
                    conditions,
                    limit: units.len() as i64,
                },
            )
            .await
            .map_err(store_error)?;
        Ok(rank(units, rows, Scored::Department))
    }
}

/// The subtree a ranking covers: the caller's, or a part of it named by `code`. A code
/// outside the caller's subtree covers nothing the caller may see: refused.
fn narrowed(scope_prefix: &str, code: Option<&str>) -> Result<String, ApiError> {
    let Some(code) = code else {
        return Ok(scope_prefix.to_owned());
    };
    let prefix = connectors::subtree_prefix(check_code(code)?).to_owned();
    if prefix.starts_with(scope_prefix) {
        Ok(prefix)
    } else if scope_prefix.starts_with(&prefix) {
        Ok(scope_prefix.to_owned())
    } else {
        Err(ApiError::new(
            crate::error::ErrorCode::Forbidden,
            format!("`{code}` lies outside the jurisdiction you may read"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_scored_on_work_it_was_given() {
        // Summoned twice, declined both: nothing to evaluate.
        let declined = Counts {
            events: 2,
            accepted: 2,
            resolved: 2,
            summonses: 2,
            declined: 2,
            ..Counts::default()
        };
        assert_eq!(score(&declined, Scored::Department), None);
        assert_eq!(score(&declined, Scored::Jurisdiction), Some(100.0));
        // Half on time, all resolved, no revisit yet, none overdue, none reworked:
        // (0.25 × 0.5 + 0.25 + 0.15 + 0.10) / 0.75.
        let answered = Counts {
            summonses: 2,
            report_due: 2,
            reported_in: 2,
            reported_in_on_time: 1,
            resolved_once: 2,
            ..declined
        };
        assert_eq!(score(&answered, Scored::Department), Some(83.33));
        let ranked = rank(
            vec![
                ("b".into(), "乙".into()),
                ("a".into(), "甲".into()),
                ("c".into(), "丙".into()),
            ],
            vec![
                FigureRow {
                    key: vec![crate::store::KeyValue {
                        dimension: Dimension::Department,
                        value: "b".into(),
                        name: None,
                    }],
                    counts: answered.clone(),
                },
                FigureRow {
                    key: vec![crate::store::KeyValue {
                        dimension: Dimension::Department,
                        value: "a".into(),
                        name: None,
                    }],
                    counts: answered,
                },
            ],
            Scored::Department,
        );
        let table: Vec<(&str, i32, Option<f64>)> = ranked
            .iter()
            .map(|u| (u.unit.code.as_str(), u.rank, u.score))
            .collect();
        assert_eq!(
            table,
            [("a", 1, Some(83.33)), ("b", 1, Some(83.33)), ("c", 3, None)]
        );
    }
}
