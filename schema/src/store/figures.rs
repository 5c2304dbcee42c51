//! 考核 figures: events and their summonses counted by PostgreSQL over the `bi` views
//! (migrations/0014_kaohe.sql), whose per-row flags are the one definition of every
//! figure (docs/KAOHE.md), grouped by the dimensions asked for, within the caller's scope.

use connectors::Scope;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};

use super::lists::{Condition, push_conditions};
use super::{Store, StoreError};
use crate::enums::JurisdictionLevel;
use crate::model::Event;

/// What figures may be grouped by (`groupBy` of `eventStats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "StatsDimension")]
pub enum Dimension {
    County,
    Township,
    Community,
    Grid,
    /// The department summoned: an event counts once under each department it summoned,
    /// and summons figures are that department's own.
    Department,
    Category,
    Channel,
    /// The tier the event is at (once resolved, the one it was resolved at).
    Tier,
    /// The day it was reported (Beijing time).
    Day,
    /// The week it was reported, from Monday.
    Week,
    /// The month it was reported.
    Month,
}

impl Dimension {
    pub const ALL: [Dimension; 11] = [
        Self::County,
        Self::Township,
        Self::Community,
        Self::Grid,
        Self::Department,
        Self::Category,
        Self::Channel,
        Self::Tier,
        Self::Day,
        Self::Week,
        Self::Month,
    ];

    /// Its name in GraphQL (`StatsDimension`) and in export parameters.
    pub fn name(self) -> &'static str {
        match self {
            Self::County => "COUNTY",
            Self::Township => "TOWNSHIP",
            Self::Community => "COMMUNITY",
            Self::Grid => "GRID",
            Self::Department => "DEPARTMENT",
            Self::Category => "CATEGORY",
            Self::Channel => "CHANNEL",
            Self::Tier => "TIER",
            Self::Day => "DAY",
            Self::Week => "WEEK",
            Self::Month => "MONTH",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The key's SQL on the event row `t` (and `d`, the summons or the summoned pair).
    fn expression(self) -> &'static str {
        match self {
            Self::County => "left(t.jurisdiction_code, 6)",
            Self::Township => "left(t.jurisdiction_code, 9)",
            Self::Community => "left(t.jurisdiction_code, 12)",
            Self::Grid => "t.jurisdiction_code",
            Self::Department => "d.department_code",
            Self::Category => "t.category",
            Self::Channel => "t.channel",
            Self::Tier => "t.tier",
            Self::Day => "(t.reported_at AT TIME ZONE 'Asia/Shanghai')::date::text",
            Self::Week => {
                "date_trunc('week', t.reported_at AT TIME ZONE 'Asia/Shanghai')::date::text"
            }
            Self::Month => {
                "date_trunc('month', t.reported_at AT TIME ZONE 'Asia/Shanghai')::date::text"
            }
        }
    }

    /// The level of the jurisdictions it groups by, if it groups by jurisdiction.
    pub fn level(self) -> Option<JurisdictionLevel> {
        match self {
            Self::County => Some(JurisdictionLevel::County),
            Self::Township => Some(JurisdictionLevel::Township),
            Self::Community => Some(JurisdictionLevel::Community),
            Self::Grid => Some(JurisdictionLevel::Grid),
            _ => None,
        }
    }

    /// Whether its keys have names (jurisdictions and departments).
    pub fn has_names(self) -> bool {
        self.names().is_some()
    }

    /// The table a key's name is read from, if it has one.
    fn names(self) -> Option<&'static str> {
        match self {
            Self::Department => Some("departments"),
            _ => self.level().map(|_| "jurisdictions"),
        }
    }
}

/// The counts the figures are made of, for one group. Rates are ratios of these
/// (see [`Counts`]' methods); every count is a flag of `bi.events` or `bi.summonses`.
#[derive(Debug, Clone, Default, PartialEq, FromRow)]
pub struct Counts {
    pub events: i64,
    pub accepted: i64,
    pub resolved: i64,
    pub resolved_once: i64,
    pub closed: i64,
    pub overdue: i64,
    pub revisited: i64,
    pub satisfied: i64,
    pub reworked: i64,
    pub disputes_resolved: i64,
    pub resolved_before_litigation: i64,
    pub handling_hours_mean: Option<f64>,
    pub handling_hours_p90: Option<f64>,
    pub summonses: i64,
    pub report_due: i64,
    pub reported_in: i64,
    pub reported_in_on_time: i64,
    pub declined: i64,
    pub overdue_summonses: i64,
    pub extensions: i64,
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

impl Counts {
    /// 响应率: summonses reported in by their deadline, of those due to have.
    pub fn response_rate(&self) -> Option<f64> {
        ratio(self.reported_in_on_time, self.report_due)
    }

    /// 按时报到率: of the summonses reported in, those on time.
    pub fn on_time_report_in_rate(&self) -> Option<f64> {
        ratio(self.reported_in_on_time, self.reported_in)
    }

    /// 解决率: accepted events resolved.
    pub fn resolution_rate(&self) -> Option<f64> {
        ratio(self.resolved, self.accepted)
    }

    /// 满意率: revisited events whose (latest) revisit was satisfied.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.satisfied, self.revisited)
    }

    /// 重办率: events resolved at least once that were reopened.
    pub fn rework_rate(&self) -> Option<f64> {
        ratio(self.reworked, self.resolved_once)
    }

    /// 超期率: accepted events whose own deadline passed while open.
    pub fn overdue_rate(&self) -> Option<f64> {
        ratio(self.overdue, self.accepted)
    }

    /// Summonses that went overdue (report-in or handling), of all summonses.
    pub fn summons_overdue_rate(&self) -> Option<f64> {
        ratio(self.overdue_summonses, self.summonses)
    }

    /// Resolved disputes settled at the window or in mediation (诉前化解率).
    pub fn share_before_litigation(&self) -> Option<f64> {
        ratio(self.resolved_before_litigation, self.disputes_resolved)
    }
}

/// The counts and rates of [`Counts::record`], by name (as the GraphQL `Figures` fields,
/// in snake case).
pub const FIGURE_COLUMNS: [&str; 27] = [
    "events",
    "accepted",
    "resolved",
    "closed",
    "overdue",
    "revisited",
    "satisfied",
    "reworked",
    "disputes_resolved",
    "resolved_before_litigation",
    "summonses",
    "summonses_due",
    "reported_in",
    "reported_in_on_time",
    "declined",
    "overdue_summonses",
    "extensions",
    "response_rate",
    "on_time_report_in_rate",
    "resolution_rate",
    "satisfaction_rate",
    "rework_rate",
    "overdue_rate",
    "summons_overdue_rate",
    "share_before_litigation",
    "mean_handling_hours",
    "p90_handling_hours",
];

impl Counts {
    /// The values of [`FIGURE_COLUMNS`], in order.
    pub fn record(&self) -> Vec<serde_json::Value> {
        use serde_json::Value;
        let counts = [
            self.events,
            self.accepted,
            self.resolved,
            self.closed,
            self.overdue,
            self.revisited,
            self.satisfied,
            self.reworked,
            self.disputes_resolved,
            self.resolved_before_litigation,
            self.summonses,
            self.report_due,
            self.reported_in,
            self.reported_in_on_time,
            self.declined,
            self.overdue_summonses,
            self.extensions,
        ];
        let rates = [
            self.response_rate(),
            self.on_time_report_in_rate(),
            self.resolution_rate(),
            self.satisfaction_rate(),
            self.rework_rate(),
            self.overdue_rate(),
            self.summons_overdue_rate(),
            self.share_before_litigation(),
            self.handling_hours_mean,
            self.handling_hours_p90,
        ];
        counts
            .into_iter()
            .map(Value::from)
            .chain(
                rates
                    .into_iter()
                    .map(|rate| rate.map_or(Value::Null, Value::from)),
            )
            .collect()
    }
}

/// One group's key values (in the order asked) and counts.
#[derive(Debug, Clone)]
pub struct FigureRow {
    pub key: Vec<KeyValue>,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub dimension: Dimension,
    pub value: String,
    /// The jurisdiction's or department's name, for those keys.
    pub name: Option<String>,
}

/// Figures grouped by `dimensions` over the events the conditions select.
#[derive(Debug, Clone)]
pub struct FigureQuery {
    pub dimensions: Vec<Dimension>,
    pub conditions: Vec<Condition>,
    /// At most this many groups; one more is fetched to tell that there are more.
    pub limit: i64,
}

/// Each event figure: its column and its aggregate over the rows `t` of `bi.events`.
const EVENT_COUNTS: [(&str, &str); 13] = [
    ("events", "count(*)"),
    ("accepted", "count(*) FILTER (WHERE t.accepted)"),
    ("resolved", "count(*) FILTER (WHERE t.resolved)"),
    ("resolved_once", "count(*) FILTER (WHERE t.resolved_once)"),
    ("closed", "count(*) FILTER (WHERE t.closed)"),
    ("overdue", "count(*) FILTER (WHERE t.overdue)"),
    ("revisited", "count(*) FILTER (WHERE t.revisited)"),
    ("satisfied", "count(*) FILTER (WHERE t.satisfied)"),
    ("reworked", "count(*) FILTER (WHERE t.reworked)"),
    (
        "disputes_resolved",
        "count(*) FILTER (WHERE t.dispute_resolved)",
    ),
    (
        "resolved_before_litigation",
        "count(*) FILTER (WHERE t.resolved_before_litigation)",
    ),
    (
        "handling_hours_mean",
        "avg(t.handling_hours) FILTER (WHERE t.resolved)",
    ),
    (
        "handling_hours_p90",
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY t.handling_hours) FILTER (WHERE t.resolved)",
    ),
];

/// Each summons figure: its column and its aggregate over the rows `d` of `bi.summonses`.
const SUMMONS_COUNTS: [(&str, &str); 7] = [
    ("summonses", "count(*)"),
    ("report_due", "count(*) FILTER (WHERE d.report_due)"),
    ("reported_in", "count(*) FILTER (WHERE d.reported_in)"),
    (
        "reported_in_on_time",
        "count(*) FILTER (WHERE d.reported_in_on_time)",
    ),
    ("declined", "count(*) FILTER (WHERE d.declined)"),
    ("overdue_summonses", "count(*) FILTER (WHERE d.overdue)"),
    ("extensions", "COALESCE(sum(d.extensions), 0)::bigint"),
];

/// `aggregate AS column, ...`
fn aggregates(figures: &[(&str, &str)]) -> String {
    figures
        .iter()
        .map(|(column, aggregate)| format!("{aggregate} AS {column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The final select of each figure: a group that one side lacks counts 0 there, but has
/// no mean (NULL).
fn joined(side: &str, figures: &[(&str, &str)]) -> Vec<String> {
    figures
        .iter()
        .map(|(column, aggregate)| {
            if aggregate.starts_with("count") || aggregate.starts_with("COALESCE") {
                format!("COALESCE({side}.{column}, 0) AS {column}")
            } else {
                format!("{side}.{column}")
            }
        })
        .collect()
}

impl Store {
    /// One statement: the event counts and the summons counts of each group, joined on
    /// the group's key, in key order.
    pub async fn figures(
        &self,
        scope: &Scope,
        query: &FigureQuery,
    ) -> Result<Vec<FigureRow>, StoreError> {
        let dimensions = &query.dimensions;
        let by_department = dimensions.contains(&Dimension::Department);
        let keys: Vec<String> = (0..dimensions.len()).map(|i| format!("k{i}")).collect();
        let select_keys: String = dimensions
            .iter()
            .zip(&keys)
            .map(|(dimension, key)| format!("{} AS {key}, ", dimension.expression()))
            .collect();
        let group_by = if keys.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", keys.join(", "))
        };
        let department = scope.summoned().map(str::to_owned);

        let mut builder = QueryBuilder::<Postgres>::new(format!(
            "WITH ev AS (SELECT {select_keys}{} FROM bi.events t",
            aggregates(&EVENT_COUNTS)
        ));
        if by_department {
            builder.push(
                " JOIN (SELECT DISTINCT event_id, department_code FROM summonses \
                 WHERE department_code IS NOT NULL",
            );
            if let Some(department) = &department {
                builder
                    .push(" AND department_code = ")
                    .push_bind(department.clone());
            }
            builder.push(") d ON d.event_id = t.id");
        }
        builder.push(" WHERE TRUE");
        push_conditions::<Event>(&mut builder, scope, &[], &query.conditions);
        builder.push(format_args!(
            "{group_by}), su AS (SELECT {select_keys}{} \
             FROM bi.summonses d JOIN bi.events t ON t.id = d.event_id WHERE TRUE",
            aggregates(&SUMMONS_COUNTS)
        ));
        if by_department {
            builder.push(" AND d.department_code IS NOT NULL");
        }
        if let Some(department) = &department {
            builder
                .push(" AND d.department_code = ")
                .push_bind(department.clone());
        }
        push_conditions::<Event>(&mut builder, scope, &[], &query.conditions);
        builder.push(format_args!("{group_by}) SELECT "));
        for (dimension, key) in dimensions.iter().zip(&keys) {
            builder.push(format_args!("COALESCE(ev.{key}, su.{key}) AS {key}, "));
            match dimension.names() {
                Some(table) => builder.push(format_args!(
                    "(SELECT n.name FROM {table} n WHERE n.code = COALESCE(ev.{key}, su.{key})) \
                     AS {key}_name, "
                )),
                None => builder.push(format_args!("NULL::text AS {key}_name, ")),
            };
        }
        let mut figures = joined("ev", &EVENT_COUNTS);
        figures.extend(joined("su", &SUMMONS_COUNTS));
        builder.push(figures.join(", "));
        let on = if keys.is_empty() {
            "TRUE".to_owned()
        } else {
            keys.iter()
                .map(|key| format!("ev.{key} = su.{key}"))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        builder.push(format_args!(" FROM ev FULL JOIN su ON {on}"));
        if !keys.is_empty() {
            builder.push(format_args!(" ORDER BY {}", keys.join(", ")));
        }
        builder.push(" LIMIT ").push_bind(query.limit + 1);

        let rows = builder.build().fetch_all(self.executor()).await?;
        rows.iter()
            .map(|row| figure_row(row, dimensions))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The units a ranking lists: the jurisdictions of the level `unit` names in
    /// `prefix`'s subtree, or else the departments of the counties in it (only
    /// `department` when given), in code order, with their names.
    pub async fn ranked_units(
        &self,
        unit: Dimension,
        prefix: &str,
        department: Option<&str>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut builder = QueryBuilder::<Postgres>::new("");
        if let Some(level) = unit.level() {
            builder
                .push("SELECT code, name FROM jurisdictions WHERE level = ")
                .push_bind(level.as_str())
                .push(" AND code >= ")
                .push_bind(prefix.to_owned())
                .push(" AND code < ")
                .push_bind(format!("{prefix}~"));
        } else {
            builder.push("SELECT code, name FROM departments WHERE TRUE");
            if let Some(department) = department {
                builder
                    .push(" AND code = ")
                    .push_bind(department.to_owned());
            }
            // A department belongs to its county: it is in a subtree that holds its
            // county, or in the county a narrower subtree lies in.
            builder
                .push(" AND (county_code >= ")
                .push_bind(prefix.to_owned())
                .push(" AND county_code < ")
                .push_bind(format!("{prefix}~"))
                .push(" OR starts_with(")
                .push_bind(prefix.to_owned())
                .push(", county_code))");
        }
        builder.push(" ORDER BY code");
        let rows = builder.build().fetch_all(self.executor()).await?;
        rows.iter()
            .map(|row| Ok((row.try_get("code")?, row.try_get("name")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}

fn figure_row(row: &PgRow, dimensions: &[Dimension]) -> Result<FigureRow, sqlx::Error> {
    let key = dimensions
        .iter()
        .enumerate()
        .map(|(i, &dimension)| {
            Ok(KeyValue {
                dimension,
                value: row.try_get(format!("k{i}").as_str())?,
                name: row.try_get(format!("k{i}_name").as_str())?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(FigureRow {
        key,
        counts: Counts::from_row(row)?,
    })
}
