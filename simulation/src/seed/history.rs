//! The workflow history of each event: the timeline the dispatch workflow would have
//! written while the event lived the life [`super::events`] drew for it — reported,
//! accepted, whistles blown (吹哨) and departments reporting in (报到), declining,
//! asking for more time and feeding back, the deadline watcher's marks (督办),
//! mediation and court for disputes, resolution, the follow-up call (回访), rework and
//! closing.
//!
//! An event's [`Life`] is small and fixed in size: the stage times drawn from the
//! events stream and one number drawn from the `history` stream. Everything else is
//! drawn again from that number whenever it is needed ([`replay`]): once to write the
//! event's own columns, and once for each of the whistles, summonses and timeline
//! tables, which are written after the events. The same life always gives the same
//! history.
//!
//! A history is a list of timed actions, replayed in time order through the event's
//! and the summonses' states up to the window's end: what the replay reaches is what
//! the tables hold, so statuses, timestamps and timeline entries agree by construction.

use schema::enums::DepartmentKind as Kind;
use schema::enums::{
    EventCategory, EventChannel, EventStatus, ResolutionTier, SummonsStatus, TimelineKind, Urgency,
};

use super::departments::type_index;
use super::rng::Rng;
use super::time::{DAY, EVENTS_END, HOUR, MINUTE};

/// The stage times of an event's life, as [`super::events`] drew them. Times after the
/// window's end are what would have happened next.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub reported_at: i64,
    /// When the event was accepted, or rejected when `rejected`.
    pub decided_at: i64,
    pub rejected: bool,
    /// The first dispatch; the fields below are meaningless for a rejected event.
    pub dispatched_at: i64,
    /// Returned when the department first summoned declined, and dispatched again.
    pub returned: Option<(i64, i64)>,
    /// When the work was planned to start (the history starts it at the first
    /// department's report-in instead).
    pub in_progress_at: i64,
    /// Escalated to the county, and the work resumed there.
    pub escalated: Option<(i64, i64)>,
    pub resolved_at: i64,
    pub closed_at: i64,
    /// A dispute's tier of resolution.
    pub tier: Option<ResolutionTier>,
    /// The first follow-up call's satisfaction.
    pub satisfaction: i64,
}

/// How many rows an event's history has, counted when its event row is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub whistles: u8,
    pub summonses: u8,
    pub entries: u16,
}

/// What an event's history is drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Life {
    pub plan: Plan,
    /// Drawn from the `history` stream, one per event in id order.
    pub seed: u64,
    /// Index into the tree's grids.
    pub grid: u32,
    pub category: EventCategory,
    pub channel: EventChannel,
    pub urgency: Urgency,
    /// The event's own deadline.
    pub due_at: i64,
    pub counts: Counts,
}

/// The level acting on an event: its grid's township, or the county above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Township,
    County,
}

/// Who wrote a timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Whoever brought the event in, by its channel.
    Reporter,
    /// The level's 综治中心 (a dispatcher).
    Center(Level),
    /// The staff of the department of this summons.
    Department(u8),
    /// The level supervising the summoning level (decides extensions).
    Supervisor(Level),
    /// The deadline watcher (督办).
    Watcher,
    /// Whoever makes the follow-up call: the hotline for its events, else the grid worker.
    Revisitor,
}

/// What an entry's `detail` says; rendered to JSON when the row is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detail {
    Reported,
    Note(&'static str),
    Reason(&'static str),
    Whistle {
        whistle: u8,
        level: Level,
        note: &'static str,
        report_in_due: i64,
        handling_due: i64,
    },
    ReportIn {
        late: bool,
    },
    Feedback {
        text: &'static str,
        done: bool,
        late: bool,
    },
    ExtensionRequested {
        until: i64,
        reason: &'static str,
    },
    ExtensionDecided {
        granted: bool,
    },
    /// A summons' deadline missed: `handling` is false for the report-in deadline.
    SummonsOverdue {
        handling: bool,
        due: i64,
        level: Level,
    },
    /// The event's own deadline missed, while handled at `level`.
    EventOverdue {
        due: i64,
        level: Level,
    },
    Escalated {
        reason: &'static str,
    },
    Mediation {
        note: &'static str,
    },
    /// A mediation's outcome: the agreement, or `None` when it failed.
    MediationRecorded {
        agreement: Option<&'static str>,
    },
    Court {
        reason: &'static str,
    },
    Resolved {
        tier: ResolutionTier,
        summary: &'static str,
    },
    Revisit {
        satisfaction: i64,
        comment: &'static str,
    },
    Empty,
}

/// One timeline entry of an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub at: i64,
    pub kind: TimelineKind,
    /// Index into [`Story::summonses`].
    pub summons: Option<u8>,
    pub before: Option<&'static str>,
    pub after: Option<&'static str>,
    pub actor: Actor,
    pub detail: Detail,
}

/// A whistle blown on the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whistle {
    pub blown_at: i64,
    pub level: Level,
    pub note: &'static str,
}

/// A summons as it stood when the window closed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summons {
    /// Index into [`Story::whistles`].
    pub whistle: u8,
    /// Index into [`super::departments::DEPARTMENT_TYPES`] (of the event's county).
    pub department: u8,
    pub status: SummonsStatus,
    pub report_in_due: i64,
    pub handling_due: i64,
    pub reported_in_at: Option<i64>,
    pub done_at: Option<i64>,
    pub decline_reason: Option<&'static str>,
    /// A request for more time not yet decided.
    pub extension_until: Option<i64>,
    pub extension_reason: Option<&'static str>,
    pub feedback: Option<&'static str>,
    pub updated_at: i64,
    pub overdue_marks: i64,
    pub extensions: i64,
}

/// The event's columns as the window closed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventState {
    pub status: EventStatus,
    pub updated_at: i64,
    pub accepted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub overdue_at: Option<i64>,
    pub satisfaction: Option<i64>,
    pub revisit_comment: Option<&'static str>,
    pub reworks: i64,
    /// Handled by the county since its escalation.
    pub escalated: bool,
    /// The tier it is at now (WINDOW until referred).
    pub tier: ResolutionTier,
    /// The tier it was last resolved at (disputes only).
    pub resolution_tier: Option<ResolutionTier>,
}

/// An event's history up to the window's end.
#[derive(Debug, Clone, Default)]
pub struct Story {
    pub whistles: Vec<Whistle>,
    pub summonses: Vec<Summons>,
    pub entries: Vec<Entry>,
    pub event: Option<EventState>,
}

impl Story {
    pub fn counts(&self) -> Counts {
        Counts {
            whistles: self.whistles.len() as u8,
            summonses: self.summonses.len() as u8,
            entries: self.entries.len() as u16,
        }
    }

    /// The event's columns (the replay always starts with the report).
    pub fn event(&self) -> EventState {
        self.event.unwrap_or(EventState {
            status: EventStatus::Reported,
            updated_at: 0,
            accepted_at: None,
            resolved_at: None,
            closed_at: None,
            overdue_at: None,
            satisfaction: None,
            revisit_comment: None,
            reworks: 0,
            escalated: false,
            tier: ResolutionTier::Window,
            resolution_tier: None,
        })
    }
}

/// How long a summoned department has to report in, by urgency (as the workflow's
/// default deadlines).
pub fn report_in_time(urgency: Urgency) -> i64 {
    match urgency {
        Urgency::Critical => 30 * MINUTE,
        Urgency::High => 2 * HOUR,
        Urgency::Normal => 24 * HOUR,
        Urgency::Low => 48 * HOUR,
    }
}

/// How long handling may take, by urgency (the event's own time allowed).
fn handling_time(urgency: Urgency) -> i64 {
    super::events::due_days(urgency) * DAY
}

/// The departments summoned to an event of a category: the one in charge, one that
/// often joins it, and one often summoned by mistake (it declines: not its duty).
fn departments(category: EventCategory) -> (Kind, Option<Kind>, Kind) {
    use EventCategory as C;
    match category {
        C::NeighborDispute => (
            Kind::Justice,
            Some(Kind::PublicSecurity),
            Kind::HousingConstruction,
        ),
        C::FamilyDispute => (Kind::Justice, Some(Kind::CivilAffairs), Kind::Petitions),
        C::LaborDispute => (
            Kind::HumanResourcesSocialSecurity,
            None,
            Kind::MarketRegulation,
        ),
        C::PropertyManagement => (Kind::HousingConstruction, None, Kind::UrbanManagement),
        C::LandDispute => (
            Kind::NaturalResources,
            Some(Kind::AgricultureRural),
            Kind::WaterResources,
        ),
        C::SafetyHazard => (
            Kind::EmergencyManagement,
            Some(Kind::FireRescue),
            Kind::HousingConstruction,
        ),
        C::Environment => (Kind::EcologyEnvironment, None, Kind::UrbanManagement),
        C::CityAppearance => (Kind::UrbanManagement, None, Kind::HousingConstruction),
        C::ConsumerRights => (Kind::MarketRegulation, None, Kind::Commerce),
        C::SocialAssistance => (
            Kind::CivilAffairs,
            Some(Kind::HealthcareSecurity),
            Kind::HumanResourcesSocialSecurity,
        ),
        C::PublicOrder => (Kind::PublicSecurity, None, Kind::UrbanManagement),
        C::Traffic => (
            Kind::Transport,
            Some(Kind::PublicSecurity),
            Kind::UrbanManagement,
        ),
    }
}

/// Per mille of summonses that report in late, and very late (days rather than hours).
const LATE_PER_MILLE: u64 = 85;
const VERY_LATE_PER_MILLE: u64 = 25;
/// Percent of departments done in time although the event is resolved after their
/// handling deadline (the event waits on other things).
const FINISHED_IN_TIME: u64 = 70;
/// Percent of summonses asking for more time when they will not be done in time, and
/// per mille of the others.
const EXTENSION_IF_LATE: u64 = 30;
const EXTENSION_OTHERWISE: u64 = 12;

const ACCEPT_NOTES: &[&str] = &[
    "已受理，转相关部门办理",
    "经核实情况属实，予以受理",
    "已受理，按时限要求办理",
    "诉求清楚，予以受理",
];
const COUNTY_ACCEPT_NOTES: &[&str] = &[
    "已接收上报事项，统筹协调办理",
    "已接收，组织相关部门会商处置",
];
const REACCEPT_NOTES: &[&str] = &["重新受理，另行派遣承办部门", "已核实职责归属，重新受理派遣"];
const REJECT_REASONS: &[&str] = &[
    "不属于受理范围，已告知诉求人通过其他途径反映",
    "重复上报，已与原事项合并办理",
    "经核实情况不属实",
    "诉求人已撤回诉求",
];
const WHISTLE_NOTES: &[&str] = &[
    "请按时限报到并反馈处置情况",
    "请派员到现场核查处置",
    "请依职责及时处置并反馈结果",
];
const URGENT_WHISTLE_NOTES: &[&str] = &["事项紧急，请立即派员处置", "情况紧急，请第一时间到场"];
const COUNTY_WHISTLE_NOTES: &[&str] = &[
    "区县统筹：请相关部门联合处置",
    "经区县会商，请按职责分工处置",
];
const DECLINE_REASONS: &[&str] = &[
    "不属于本部门职责",
    "该事项不在本部门职权范围内，建议转交主管部门",
    "经核查非本部门管辖事项",
];
const RETURN_REASONS: &[&str] = &[
    "承办部门退回：不属于本部门职责，需重新派遣",
    "派遣部门有误，退回重新派遣",
];
const ESCALATE_REASONS: &[&str] = &[
    "涉及多个部门职责交叉，需区县层面统筹协调",
    "乡镇（街道）层面协调无果，提请上级协调解决",
    "群众反映强烈，需上级督办",
];
const PROGRESS: &[&str] = &[
    "已到现场核实情况，正在协调处置",
    "已约谈相关当事人，正在制定处置方案",
    "已安排专人跟进，处置工作正在推进",
    "已下达整改通知，责令限期整改",
];
const DONE: &[&str] = &[
    "已处置完毕，现场复核无误",
    "问题已整改到位，已向诉求人反馈",
    "已依法处理完毕，当事人无异议",
    "已完成职责范围内的处置工作",
];
const EXTENSION_REASONS: &[&str] = &[
    "需协调多方共同处置，申请延长办理时限",
    "涉及专业检测鉴定，所需时间较长",
    "当事人暂不在本地，待其返回后处理",
    "受天气影响无法施工，申请延期",
];
const MEDIATION_NOTES: &[&str] = &["转人民调解委员会调解", "引导双方到调解室调解"];
const AGREEMENTS: &[&str] = &[
    "双方自愿达成调解协议，约定十日内履行完毕",
    "双方就赔偿金额达成一致，当场履行",
    "双方达成协议，相互谅解，不再追究",
];
const COURT_REASONS: &[&str] = &[
    "调解不成，当事人坚持通过诉讼解决",
    "一方拒不接受调解意见，引导依法诉讼",
    "争议标的较大，调解未能达成一致",
];
const SUMMARIES: &[&str] = &[
    "经现场核实并协调，问题已解决",
    "已督促责任方整改完毕，经复查合格",
    "相关部门已依法处置，诉求人认可处理结果",
    "经网格员和部门联合处置，问题已妥善解决",
];
const MEDIATED_SUMMARIES: &[&str] = &[
    "经人民调解委员会调解，双方达成协议并已履行",
    "调解成功，双方签订调解协议书",
    "经调解双方消除隔阂，协议已履行完毕",
];
const LITIGATED_SUMMARIES: &[&str] = &[
    "经法院审理，判决已生效并执行完毕",
    "案件经法院调解结案，双方已履行",
    "法院已作出裁判，当事人服判息诉",
];
const REWORK_SUMMARIES: &[&str] = &[
    "重新办理：再次到现场处置，问题已彻底解决",
    "重新办理：督促整改到位并经诉求人确认",
];
/// Follow-up comments by satisfaction, 1 to 5.
const COMMENTS: [&[&str]; 5] = [
    &["问题没有解决，很不满意", "未见实际处理，不满意"],
    &["处理不彻底，问题仍然存在", "问题反复出现，不满意"],
    &["基本解决，希望持续关注", "处理较慢，结果尚可"],
    &["问题已解决，比较满意", "处理结果基本满意"],
    &["处理及时，非常满意", "工作人员态度好，问题解决彻底"],
];
/// The second follow-up call, after rework: satisfied.
const SECOND_SATISFACTION: &[(i64, u32)] = &[(5, 45), (4, 40), (3, 15)];

fn comment(rng: &mut Rng, satisfaction: i64) -> &'static str {
    let index = (satisfaction.clamp(1, 5) - 1) as usize;
    let comments = COMMENTS[index];
    comments[rng.index(comments.len())]
}

/// What happens at a moment of the history.
#[derive(Debug, Clone, Copy)]
enum Action {
    Report,
    Accept {
        level: Level,
        note: &'static str,
    },
    Reject {
        reason: &'static str,
    },
    Whistle {
        whistle: u8,
    },
    ReportIn {
        summons: u8,
    },
    Decline {
        summons: u8,
        reason: &'static str,
    },
    Feedback {
        summons: u8,
        text: &'static str,
        done: bool,
    },
    RequestExtension {
        summons: u8,
        until: i64,
        reason: &'static str,
    },
    DecideExtension {
        summons: u8,
        granted: bool,
    },
    /// The deadline watcher looks at a summons (it marks it only if it is late then).
    WatchSummons {
        summons: u8,
    },
    /// The deadline watcher looks at the event.
    WatchEvent,
    Return {
        reason: &'static str,
    },
    Escalate {
        reason: &'static str,
    },
    ReferToMediation {
        note: &'static str,
    },
    RecordMediation {
        agreement: Option<&'static str>,
    },
    ReferToCourt {
        reason: &'static str,
    },
    Resolve {
        summary: &'static str,
    },
    Revisit {
        satisfaction: i64,
        comment: &'static str,
    },
    Close,
}

/// A summons as drafted, before the replay.
#[derive(Debug, Clone, Copy)]
struct Summoned {
    whistle: u8,
    department: u8,
    report_in_due: i64,
    handling_due: i64,
}

/// The whole history drawn, including what would happen after the window's end.
#[derive(Debug, Default)]
struct Draft {
    actions: Vec<(i64, Action)>,
    whistles: Vec<Whistle>,
    summonses: Vec<Summoned>,
}

impl Draft {
    fn push(&mut self, at: i64, action: Action) {
        self.actions.push((at, action));
    }
}

/// The watcher runs every few minutes: how long after a deadline it notices.
fn watch_delay(rng: &mut Rng) -> i64 {
    rng.range(MINUTE, 5 * MINUTE)
}

/// A point `per_cent`% of the way from `from` to `to`.
fn between(from: i64, to: i64, per_cent: i64) -> i64 {
    from + (to - from) * per_cent / 100
}

/// Draws the whole history of `life` from its own number: the actions, in the order
/// they were drawn (the replay sorts them by time), with the whistles and summonses.
fn draft(life: &Life) -> Draft {
    let plan = &life.plan;
    let mut rng = Rng::new(life.seed);
    let mut draft = Draft::default();
    draft.push(plan.reported_at, Action::Report);
    if plan.rejected {
        let reason = *rng.pick(REJECT_REASONS);
        draft.push(plan.decided_at, Action::Reject { reason });
        return draft;
    }
    let note = *rng.pick(ACCEPT_NOTES);
    draft.push(
        plan.decided_at,
        Action::Accept {
            level: Level::Township,
            note,
        },
    );

    let mut start = plan.dispatched_at;
    if let Some((returned, again)) = plan.returned {
        // The department first summoned finds it is not its duty and declines.
        let (_, _, wrong) = departments(life.category);
        let (whistle, first) = summon(&mut draft, &mut rng, life, start, Level::Township, &[wrong]);
        let latest = (report_in_time(life.urgency)).min((returned - start) / 2);
        let declined = start + rng.range((5 * MINUTE).min(latest), latest);
        let reason = *rng.pick(DECLINE_REASONS);
        draft.push(start, Action::Whistle { whistle });
        draft.push(
            declined,
            Action::Decline {
                summons: first,
                reason,
            },
        );
        let reason = *rng.pick(RETURN_REASONS);
        draft.push(returned, Action::Return { reason });
        // Accepted again just before the second dispatch.
        let reaccepted = again - rng.range(2 * MINUTE, ((again - returned) / 2).min(30 * MINUTE));
        let note = *rng.pick(REACCEPT_NOTES);
        draft.push(
            reaccepted,
            Action::Accept {
                level: Level::Township,
                note,
            },
        );
        start = again;
    }

    let first_report_in = match plan.escalated {
        Some((escalated, resumed)) => {
            work(
                &mut draft,
                &mut rng,
                life,
                start,
                Level::Township,
                escalated,
            );
            let reason = *rng.pick(ESCALATE_REASONS);
            draft.push(escalated, Action::Escalate { reason });
            let quarter = (resumed - escalated) / 4;
            let accepted = escalated + rng.range(30 * MINUTE, quarter.min(2 * DAY));
            let note = *rng.pick(COUNTY_ACCEPT_NOTES);
            draft.push(
                accepted,
                Action::Accept {
                    level: Level::County,
                    note,
                },
            );
            let blown = accepted + rng.range(10 * MINUTE, quarter.min(DAY));
            work(
                &mut draft,
                &mut rng,
                life,
                blown,
                Level::County,
                plan.resolved_at,
            )
        }
        None => work(
            &mut draft,
            &mut rng,
            life,
            start,
            Level::Township,
            plan.resolved_at,
        ),
    };

    // 诉调一体: a dispute settled in mediation went there first; one settled in court
    // went to mediation, which failed, then to court.
    let resolved = plan.resolved_at;
    match plan.tier {
        Some(ResolutionTier::Mediation) => {
            let note = *rng.pick(MEDIATION_NOTES);
            let referred = between(first_report_in, resolved, rng.range(5, 25));
            draft.push(
                referred.max(first_report_in + MINUTE),
                Action::ReferToMediation { note },
            );
            let agreement = *rng.pick(AGREEMENTS);
            let recorded = between(first_report_in, resolved, rng.range(40, 85));
            draft.push(
                recorded,
                Action::RecordMediation {
                    agreement: Some(agreement),
                },
            );
        }
        Some(ResolutionTier::Litigation) => {
            let note = *rng.pick(MEDIATION_NOTES);
            let referred = between(first_report_in, resolved, rng.range(3, 10));
            draft.push(
                referred.max(first_report_in + MINUTE),
                Action::ReferToMediation { note },
            );
            let failed = between(first_report_in, resolved, rng.range(12, 25));
            draft.push(failed, Action::RecordMediation { agreement: None });
            let reason = *rng.pick(COURT_REASONS);
            let to_court = between(first_report_in, resolved, rng.range(27, 40));
            draft.push(to_court, Action::ReferToCourt { reason });
        }
        _ => {}
    }
    let summary = match plan.tier {
        Some(ResolutionTier::Mediation) => *rng.pick(MEDIATED_SUMMARIES),
        Some(ResolutionTier::Litigation) => *rng.pick(LITIGATED_SUMMARIES),
        _ => *rng.pick(SUMMARIES),
    };
    draft.push(resolved, Action::Resolve { summary });

    // The follow-up call comes shortly before closing; an unsatisfied one reopens the
    // event for rework (重办), resolved, revisited and closed again later.
    let closed = plan.closed_at;
    let revisited = closed - rng.range(MINUTE, ((closed - resolved) / 2).min(HOUR));
    let satisfaction = plan.satisfaction;
    let first_comment = comment(&mut rng, satisfaction);
    draft.push(
        revisited,
        Action::Revisit {
            satisfaction,
            comment: first_comment,
        },
    );
    let closed = if satisfaction >= 3 {
        closed
    } else {
        let mut gaps = [
            rng.range(DAY, 7 * DAY),
            rng.range(2 * HOUR, 3 * DAY),
            rng.range(MINUTE, HOUR),
        ];
        let total: i64 = gaps.iter().sum();
        // An event the plan closed within the window is closed within it after rework.
        let room = EVENTS_END - 1 - revisited;
        if closed < EVENTS_END && total > room {
            for gap in &mut gaps {
                *gap = (i128::from(*gap) * i128::from(room) / i128::from(total)).max(1) as i64;
            }
        }
        let resolved_again = revisited + gaps[0];
        let revisited_again = resolved_again + gaps[1];
        let delay = watch_delay(&mut rng);
        draft.push(revisited + delay, Action::WatchEvent);
        let summary = *rng.pick(REWORK_SUMMARIES);
        draft.push(resolved_again, Action::Resolve { summary });
        let satisfaction = rng.pick_weighted(SECOND_SATISFACTION);
        let comment = comment(&mut rng, satisfaction);
        draft.push(
            revisited_again,
            Action::Revisit {
                satisfaction,
                comment,
            },
        );
        revisited_again + gaps[2]
    };
    draft.push(closed, Action::Close);
    let delay = watch_delay(&mut rng);
    draft.push(life.due_at + delay, Action::WatchEvent);
    draft
}

/// Drafts a whistle of `level` at `blown` summoning `kinds`: its index, and that of its
/// first summons.
fn summon(
    draft: &mut Draft,
    rng: &mut Rng,
    life: &Life,
    blown: i64,
    level: Level,
    kinds: &[Kind],
) -> (u8, u8) {
    let note = match (level, life.urgency) {
        (Level::County, _) => *rng.pick(COUNTY_WHISTLE_NOTES),
        (_, Urgency::Critical | Urgency::High) => *rng.pick(URGENT_WHISTLE_NOTES),
        _ => *rng.pick(WHISTLE_NOTES),
    };
    let whistle = draft.whistles.len() as u8;
    draft.whistles.push(Whistle {
        blown_at: blown,
        level,
        note,
    });
    let first = draft.summonses.len() as u8;
    let report_in_due = blown + report_in_time(life.urgency);
    // The event's own deadline, unless it comes before the report-in deadline (a late
    // whistle): then the workflow's default from the whistle.
    let handling_due = if life.due_at >= report_in_due {
        life.due_at
    } else {
        blown + handling_time(life.urgency)
    };
    for &kind in kinds {
        draft.summonses.push(Summoned {
            whistle,
            department: type_index(kind) as u8,
            report_in_due,
            handling_due,
        });
    }
    (whistle, first)
}

/// A whistle at `blown` whose departments report in, work and finish before `end` (the
/// next step of the event); returns the first report-in (when the work starts).
fn work(draft: &mut Draft, rng: &mut Rng, life: &Life, blown: i64, level: Level, end: i64) -> i64 {
    let (lead, partner, _) = departments(life.category);
    let mut kinds = vec![lead];
    if let Some(partner) = partner
        && rng.percent(40)
    {
        kinds.push(partner);
    }
    let (whistle, first) = summon(draft, rng, life, blown, level, &kinds);
    draft.push(blown, Action::Whistle { whistle });
    let deadline = report_in_time(life.urgency);
    // Reporting in takes at most three fifths of the time before the next step, so that
    // the work fits in the rest.
    let cap = (end - blown) * 3 / 5;
    let mut first_report_in = i64::MAX;
    for offset in 0..kinds.len() as u8 {
        let summons = first + offset;
        let Summoned {
            report_in_due,
            handling_due,
            ..
        } = draft.summonses[summons as usize];
        let ticket = rng.below(1000);
        let delay = if ticket < VERY_LATE_PER_MILLE {
            let base = deadline.max(HOUR);
            deadline + rng.range(base, 6 * base)
        } else if ticket < VERY_LATE_PER_MILLE + LATE_PER_MILLE {
            deadline + rng.range(10 * MINUTE, deadline.max(2 * HOUR))
        } else {
            // Most report in well within the deadline.
            rng.range(2 * MINUTE, deadline)
                .min(rng.range(2 * MINUTE, deadline))
        };
        let delay = if delay <= cap {
            delay
        } else {
            rng.range(MINUTE, deadline.min(cap).max(MINUTE))
        };
        let reported_in = blown + delay;
        first_report_in = first_report_in.min(reported_in);
        draft.push(reported_in, Action::ReportIn { summons });
        let delay = watch_delay(rng);
        draft.push(report_in_due + delay, Action::WatchSummons { summons });
        // A late report-in may already be past the handling deadline.
        let delay = watch_delay(rng);
        draft.push(reported_in + delay, Action::WatchSummons { summons });

        // The department in charge is done shortly before the next step of the event,
        // one joining it somewhat earlier.
        let span = end - reported_in;
        let mut done = if offset == 0 {
            end - rng.range(span / 10, (span / 3).min(DAY)).max(MINUTE)
        } else {
            between(reported_in, end, rng.range(30, 95))
        };
        // Most finish their part in time even when the event itself takes longer.
        if done > handling_due
            && handling_due - reported_in > 20 * MINUTE
            && rng.percent(FINISHED_IN_TIME)
        {
            done = between(reported_in, handling_due, rng.range(50, 98));
        }
        if done > handling_due
            && done < handling_due + 10 * MINUTE
            && handling_due > reported_in + MINUTE
        {
            done = handling_due;
        }
        if rng.percent(60) {
            let text = *rng.pick(PROGRESS);
            let at = between(reported_in, done, rng.range(20, 80)).max(reported_in + 1);
            draft.push(
                at,
                Action::Feedback {
                    summons,
                    text,
                    done: false,
                },
            );
        }
        let asks = if done > handling_due {
            rng.percent(EXTENSION_IF_LATE)
        } else {
            rng.per_mille(EXTENSION_OTHERWISE)
        };
        let (low, high) = (
            reported_in + 5 * MINUTE,
            done.min(handling_due) - 10 * MINUTE,
        );
        if asks && high - low >= 20 * MINUTE {
            let requested = between(low, high, rng.range(30, 80));
            let decided = requested + rng.range(MINUTE, (high - requested).min(DAY));
            let until = handling_due + rng.range(3 * DAY, 7 * DAY);
            let reason = *rng.pick(EXTENSION_REASONS);
            let granted = rng.percent(80);
            draft.push(
                requested,
                Action::RequestExtension {
                    summons,
                    until,
                    reason,
                },
            );
            draft.push(decided, Action::DecideExtension { summons, granted });
            if granted {
                let delay = watch_delay(rng);
                draft.push(until + delay, Action::WatchSummons { summons });
            }
        }
        let delay = watch_delay(rng);
        draft.push(handling_due + delay, Action::WatchSummons { summons });
        let text = *rng.pick(DONE);
        draft.push(
            done,
            Action::Feedback {
                summons,
                text,
                done: true,
            },
        );
    }
    first_report_in
}

/// The event's history up to the window's end.
pub fn replay(life: &Life) -> Story {
    let Draft {
        mut actions,
        whistles,
        summonses,
    } = draft(life);
    // Stable: actions of one moment keep the order they were drafted in.
    actions.sort_by_key(|&(at, _)| at);
    let mut replay = Replay {
        life,
        drafted: &summonses,
        drafted_whistles: &whistles,
        story: Story {
            entries: Vec::with_capacity(actions.len() + 4),
            ..Story::default()
        },
        event: Story::default().event(),
    };
    for &(at, action) in actions.iter().take_while(|(at, _)| *at < EVENTS_END) {
        replay.apply(at, action);
    }
    let mut story = replay.story;
    story.event = Some(replay.event);
    story
}

struct Replay<'a> {
    life: &'a Life,
    drafted: &'a [Summoned],
    drafted_whistles: &'a [Whistle],
    story: Story,
    event: EventState,
}

impl Replay<'_> {
    fn entry(
        &mut self,
        at: i64,
        kind: TimelineKind,
        summons: Option<u8>,
        states: (Option<&'static str>, Option<&'static str>),
        actor: Actor,
        detail: Detail,
    ) {
        self.story.entries.push(Entry {
            at,
            kind,
            summons,
            before: states.0,
            after: states.1,
            actor,
            detail,
        });
    }

    /// An entry of the event moving to `next` (set_event_status: updated_at moves).
    fn event_step(
        &mut self,
        at: i64,
        kind: TimelineKind,
        next: EventStatus,
        actor: Actor,
        detail: Detail,
    ) {
        let before = self.event.status;
        self.event.status = next;
        self.event.updated_at = at;
        if next == EventStatus::Accepted && self.event.accepted_at.is_none() {
            self.event.accepted_at = Some(at);
        }
        let states = (Some(before.as_str()), Some(next.as_str()));
        self.entry(at, kind, None, states, actor, detail);
    }

    /// An entry of summons `index` moving to `next`.
    fn summons_step(
        &mut self,
        at: i64,
        kind: TimelineKind,
        index: u8,
        next: SummonsStatus,
        actor: Actor,
        detail: Detail,
    ) {
        let summons = &mut self.story.summonses[index as usize];
        let before = summons.status;
        summons.status = next;
        summons.updated_at = at;
        let states = (Some(before.as_str()), Some(next.as_str()));
        self.entry(at, kind, Some(index), states, actor, detail);
    }

    fn handling_level(&self) -> Level {
        if self.event.escalated {
            Level::County
        } else {
            Level::Township
        }
    }

    fn event_open(&self) -> bool {
        !matches!(
            self.event.status,
            EventStatus::Resolved | EventStatus::Closed | EventStatus::Rejected
        )
    }

    fn apply(&mut self, at: i64, action: Action) {
        use EventStatus as E;
        use SummonsStatus as S;
        use TimelineKind as K;
        let center = Actor::Center(self.handling_level());
        match action {
            Action::Report => {
                self.event.status = E::Reported;
                self.event.updated_at = at;
                let states = (None, Some(E::Reported.as_str()));
                self.entry(
                    at,
                    K::Reported,
                    None,
                    states,
                    Actor::Reporter,
                    Detail::Reported,
                );
            }
            Action::Accept { level, note } => {
                self.event_step(
                    at,
                    K::Accepted,
                    E::Accepted,
                    Actor::Center(level),
                    Detail::Note(note),
                );
            }
            Action::Reject { reason } => {
                self.event_step(at, K::Rejected, E::Rejected, center, Detail::Reason(reason));
            }
            Action::Return { reason } => {
                self.event_step(at, K::Returned, E::Returned, center, Detail::Reason(reason));
            }
            Action::Escalate { reason } => {
                self.event_step(
                    at,
                    K::Escalated,
                    E::Escalated,
                    center,
                    Detail::Escalated { reason },
                );
                self.event.escalated = true;
            }
            Action::Whistle { whistle } => {
                let drafted = self.drafted_whistles[whistle as usize];
                let before = self.event.status;
                let next = if before == E::InProgress {
                    before
                } else {
                    E::Dispatched
                };
                self.event.status = next;
                self.event.updated_at = at;
                self.story.whistles.push(drafted);
                let drafted_summonses = self.drafted;
                for (position, summoned) in drafted_summonses
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.whistle == whistle)
                    .enumerate()
                {
                    let (index, summoned) = summoned;
                    debug_assert_eq!(index, self.story.summonses.len());
                    self.story.summonses.push(Summons {
                        whistle,
                        department: summoned.department,
                        status: S::Summoned,
                        report_in_due: summoned.report_in_due,
                        handling_due: summoned.handling_due,
                        reported_in_at: None,
                        done_at: None,
                        decline_reason: None,
                        extension_until: None,
                        extension_reason: None,
                        feedback: None,
                        updated_at: at,
                        overdue_marks: 0,
                        extensions: 0,
                    });
                    let states = (
                        (position == 0).then_some(before.as_str()),
                        Some(S::Summoned.as_str()),
                    );
                    let detail = Detail::Whistle {
                        whistle,
                        level: drafted.level,
                        note: drafted.note,
                        report_in_due: summoned.report_in_due,
                        handling_due: summoned.handling_due,
                    };
                    self.entry(
                        at,
                        K::Whistle,
                        Some(index as u8),
                        states,
                        Actor::Center(drafted.level),
                        detail,
                    );
                }
            }
            Action::ReportIn { summons } => {
                let current = self.story.summonses[summons as usize];
                let late = at > current.report_in_due;
                self.story.summonses[summons as usize].reported_in_at = Some(at);
                let actor = Actor::Department(summons);
                self.summons_step(
                    at,
                    K::ReportIn,
                    summons,
                    S::ReportedIn,
                    actor,
                    Detail::ReportIn { late },
                );
                // The first department to report in starts the work on the event.
                if self.event.status == E::Dispatched {
                    self.event.status = E::InProgress;
                    self.event.updated_at = at;
                }
            }
            Action::Decline { summons, reason } => {
                self.story.summonses[summons as usize].decline_reason = Some(reason);
                let actor = Actor::Department(summons);
                self.summons_step(
                    at,
                    K::Declined,
                    summons,
                    S::Declined,
                    actor,
                    Detail::Reason(reason),
                );
            }
            Action::Feedback {
                summons,
                text,
                done,
            } => {
                let current = self.story.summonses[summons as usize];
                let next = match (done, current.status) {
                    (true, _) => S::Done,
                    (false, S::Overdue) => S::Overdue,
                    (false, _) => S::Acting,
                };
                let late = done && at > current.handling_due;
                let state = &mut self.story.summonses[summons as usize];
                state.feedback = Some(text);
                if done {
                    state.done_at = Some(at);
                }
                let actor = Actor::Department(summons);
                let detail = Detail::Feedback { text, done, late };
                self.summons_step(at, K::Feedback, summons, next, actor, detail);
            }
            Action::RequestExtension {
                summons,
                until,
                reason,
            } => {
                let state = &mut self.story.summonses[summons as usize];
                state.extension_until = Some(until);
                state.extension_reason = Some(reason);
                let status = state.status;
                let actor = Actor::Department(summons);
                let detail = Detail::ExtensionRequested { until, reason };
                self.summons_step(at, K::ExtensionRequested, summons, status, actor, detail);
            }
            Action::DecideExtension { summons, granted } => {
                let state = &mut self.story.summonses[summons as usize];
                if granted && let Some(until) = state.extension_until {
                    state.handling_due = until;
                    state.extensions += 1;
                }
                state.extension_until = None;
                state.extension_reason = None;
                let next = match (granted, state.status) {
                    (true, S::Overdue) => S::Acting,
                    (_, status) => status,
                };
                let level = self.story.whistles[state.whistle as usize].level;
                let detail = Detail::ExtensionDecided { granted };
                self.summons_step(
                    at,
                    K::ExtensionDecided,
                    summons,
                    next,
                    Actor::Supervisor(level),
                    detail,
                );
            }
            Action::WatchSummons { summons } => {
                let Some(&current) = self.story.summonses.get(summons as usize) else {
                    return;
                };
                let missed = match current.status {
                    S::Summoned if current.report_in_due < at => {
                        Some((false, current.report_in_due))
                    }
                    S::ReportedIn | S::Acting if current.handling_due < at => {
                        Some((true, current.handling_due))
                    }
                    _ => None,
                };
                let Some((handling, due)) = missed else {
                    return;
                };
                if !self.event_open() {
                    return;
                }
                let level = self.story.whistles[current.whistle as usize].level;
                self.story.summonses[summons as usize].overdue_marks += 1;
                let detail = Detail::SummonsOverdue {
                    handling,
                    due,
                    level,
                };
                self.summons_step(at, K::Overdue, summons, S::Overdue, Actor::Watcher, detail);
                self.summons_step(
                    at,
                    K::Supervision,
                    summons,
                    S::Overdue,
                    Actor::Watcher,
                    detail,
                );
                // Both entries are of the one change: before is the status it was in.
                let count = self.story.entries.len();
                self.story.entries[count - 1].before = self.story.entries[count - 2].before;
            }
            Action::WatchEvent => {
                if self.event.overdue_at.is_some() || !self.event_open() || self.life.due_at >= at {
                    return;
                }
                self.event.overdue_at = Some(at);
                let status = Some(self.event.status.as_str());
                let detail = Detail::EventOverdue {
                    due: self.life.due_at,
                    level: self.handling_level(),
                };
                self.entry(
                    at,
                    K::Overdue,
                    None,
                    (status, status),
                    Actor::Watcher,
                    detail,
                );
                self.entry(
                    at,
                    K::Supervision,
                    None,
                    (status, status),
                    Actor::Watcher,
                    detail,
                );
            }
            Action::ReferToMediation { note } => {
                self.event.tier = ResolutionTier::Mediation;
                self.event_step(
                    at,
                    K::ReferredToMediation,
                    E::InProgress,
                    center,
                    Detail::Mediation { note },
                );
            }
            Action::RecordMediation { agreement } => {
                let status = self.event.status;
                let detail = Detail::MediationRecorded { agreement };
                self.event_step(at, K::MediationRecorded, status, center, detail);
            }
            Action::ReferToCourt { reason } => {
                self.event.tier = ResolutionTier::Litigation;
                self.event_step(
                    at,
                    K::ReferredToCourt,
                    E::InProgress,
                    center,
                    Detail::Court { reason },
                );
            }
            Action::Resolve { summary } => {
                let tier = self.event.tier;
                self.event.resolved_at = Some(at);
                if self.life.category.is_dispute() {
                    self.event.resolution_tier = Some(tier);
                }
                self.event_step(
                    at,
                    K::Resolved,
                    E::Resolved,
                    center,
                    Detail::Resolved { tier, summary },
                );
            }
            Action::Revisit {
                satisfaction,
                comment,
            } => {
                self.event.satisfaction = Some(satisfaction);
                self.event.revisit_comment = Some(comment);
                let detail = Detail::Revisit {
                    satisfaction,
                    comment,
                };
                if satisfaction >= 3 {
                    self.event_step(at, K::Evaluated, E::Resolved, Actor::Revisitor, detail);
                } else {
                    self.event.reworks += 1;
                    self.event.resolved_at = None;
                    self.event_step(at, K::Reopened, E::InProgress, Actor::Revisitor, detail);
                }
            }
            Action::Close => {
                self.event.closed_at = Some(at);
                self.event_step(at, K::Closed, E::Closed, center, Detail::Empty);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::events::{due_days, outcome};
    use super::super::time::EVENTS_START;
    use super::*;
    use schema::workflow::machine::{self, EventAction, SummonsAction};

    /// Lives drawn as the seed draws them, over the whole window.
    fn lives(count: i64, seed: u64) -> Vec<Life> {
        let mut rng = Rng::new(seed);
        let mut seeds = Rng::stream(seed, "history");
        (0..count)
            .map(|i| {
                let reported_at = EVENTS_START + (i * 7_919 * 61) % (EVENTS_END - EVENTS_START);
                let urgency = *rng.pick(Urgency::ALL);
                let category = *rng.pick(EventCategory::ALL);
                let channel = *rng.pick(EventChannel::ALL);
                Life {
                    plan: outcome(&mut rng, reported_at, urgency, category),
                    seed: seeds.next_u64(),
                    grid: 0,
                    category,
                    channel,
                    urgency,
                    due_at: reported_at + due_days(urgency) * DAY,
                    counts: Counts::default(),
                }
            })
            .collect()
    }

    /// What a test counts over many histories.
    #[derive(Debug, Default)]
    struct Tally {
        report_ins: u32,
        late_report_ins: u32,
        never_reported_in: u32,
        summonses: u32,
        extension_requests: u32,
        extensions_granted: u32,
        first_revisits: u32,
        unsatisfied_first_revisits: u32,
        returned: u32,
        dispatched: u32,
        overdue_events: u32,
        overdue_summonses: u32,
        closed: u32,
    }

    fn event_action(entry: &Entry) -> Option<EventAction> {
        use TimelineKind as K;
        Some(match entry.kind {
            K::Accepted => EventAction::Accept,
            K::Rejected => EventAction::Reject,
            K::Returned => EventAction::Return,
            K::Escalated => EventAction::Escalate,
            K::Resolved => EventAction::Resolve,
            K::Evaluated => EventAction::Revisit { satisfied: true },
            K::Reopened => EventAction::Revisit { satisfied: false },
            K::Closed => EventAction::Close,
            K::ReferredToMediation | K::ReferredToCourt => EventAction::Refer,
            K::MediationRecorded => EventAction::Mediate,
            K::Overdue | K::Supervision => EventAction::MarkOverdue,
            _ => return None,
        })
    }

    fn summons_action(entry: &Entry) -> Option<SummonsAction> {
        use TimelineKind as K;
        Some(match (entry.kind, entry.detail) {
            (K::ReportIn, _) => SummonsAction::ReportIn,
            (K::Declined, _) => SummonsAction::Decline,
            (K::Feedback, Detail::Feedback { done, .. }) => SummonsAction::Feedback { done },
            (K::ExtensionRequested, _) => SummonsAction::RequestExtension,
            (K::ExtensionDecided, Detail::ExtensionDecided { granted }) => {
                SummonsAction::DecideExtension { granted }
            }
            (K::Overdue, _) => SummonsAction::MarkOverdue,
            _ => return None,
        })
    }

    /// Replays the entries through the workflow's own state machines and checks the
    /// story's columns against them.
    fn check(life: &Life, story: &Story, tally: &mut Tally) {
        use EventStatus as E;
        use SummonsStatus as S;
        use TimelineKind as K;
        let plan = &life.plan;
        let entries = &story.entries;
        let event = story.event();
        let first = entries.first().expect("a REPORTED entry");
        assert_eq!(first.kind, K::Reported);
        assert_eq!(first.at, plan.reported_at);
        for pair in entries.windows(2) {
            assert!(pair[0].at <= pair[1].at, "{life:?}: {pair:?}");
        }
        assert!(entries.iter().all(|e| e.at < EVENTS_END));

        let mut status = E::Reported;
        let mut summonses: Vec<(S, bool)> = Vec::new();
        let mut marked_at: Option<i64> = None;
        let mut revisits = 0;
        let mut last_revisit = None;
        let mut resolutions = Vec::new();
        let mut escalated = false;
        for (position, entry) in entries.iter().enumerate().skip(1) {
            match entry.summons {
                None => {
                    assert_eq!(entry.before, Some(status.as_str()), "{life:?}: {entry:?}");
                    let action = event_action(entry).expect("an event action");
                    let next = if entry.kind == K::Returned {
                        // Sent back after the department summoned declined: the seed's
                        // one path outside the machine (it returns the dispatched event).
                        assert_eq!(status, E::Dispatched);
                        E::Returned
                    } else {
                        machine::event(status, action).unwrap_or_else(|e| panic!("{e}: {life:?}"))
                    };
                    assert_eq!(entry.after, Some(next.as_str()), "{entry:?}");
                    match entry.kind {
                        K::Overdue => {
                            assert!(marked_at.is_none());
                            marked_at = Some(entry.at);
                            assert!(entry.at > life.due_at);
                            assert_eq!(entry.actor, Actor::Watcher);
                        }
                        K::Resolved => {
                            resolutions.push(entry.at);
                            // Every summons is done or declined first.
                            assert!(
                                summonses
                                    .iter()
                                    .all(|(s, _)| matches!(s, S::Done | S::Declined)),
                                "{life:?}"
                            );
                        }
                        K::Evaluated | K::Reopened => {
                            revisits += 1;
                            let Detail::Revisit { satisfaction, .. } = entry.detail else {
                                panic!("a revisit's detail: {entry:?}")
                            };
                            assert_eq!(satisfaction >= 3, entry.kind == K::Evaluated);
                            if revisits == 1 {
                                tally.first_revisits += 1;
                                tally.unsatisfied_first_revisits += u32::from(satisfaction < 3);
                            }
                            last_revisit = Some(satisfaction);
                        }
                        K::Escalated => escalated = true,
                        K::Returned => tally.returned += 1,
                        _ => {}
                    }
                    status = next;
                }
                Some(index) => {
                    let index = index as usize;
                    if entry.kind == K::Whistle {
                        assert_eq!(index, summonses.len());
                        let whistle = story.summonses[index].whistle as usize;
                        let first_of_whistle =
                            index == 0 || story.summonses[index - 1].whistle as usize != whistle;
                        if first_of_whistle {
                            assert_eq!(entry.before, Some(status.as_str()));
                            if summonses.is_empty() {
                                tally.dispatched += 1;
                            }
                            status = machine::event(status, EventAction::BlowWhistle)
                                .unwrap_or_else(|e| panic!("{e}"));
                        } else {
                            assert_eq!(entry.before, None);
                        }
                        assert_eq!(entry.at, story.whistles[whistle].blown_at);
                        assert_eq!(entry.after, Some(S::Summoned.as_str()));
                        summonses.push((S::Summoned, false));
                        continue;
                    }
                    let (current, reported_in) = summonses[index];
                    if entry.kind == K::Supervision {
                        // The watcher's second entry of one mark.
                        let previous = entries[position - 1];
                        assert_eq!(previous.kind, K::Overdue);
                        assert_eq!(
                            (previous.before, previous.after),
                            (entry.before, entry.after)
                        );
                        continue;
                    }
                    assert_eq!(entry.before, Some(current.as_str()), "{life:?}: {entry:?}");
                    let action = summons_action(entry).expect("a summons action");
                    let next = machine::summons(current, reported_in, action)
                        .unwrap_or_else(|e| panic!("{e}: {life:?}"));
                    assert_eq!(entry.after, Some(next.as_str()), "{entry:?}");
                    if entry.kind == K::ReportIn {
                        tally.report_ins += 1;
                        let Detail::ReportIn { late } = entry.detail else {
                            panic!("{entry:?}")
                        };
                        let summons = &story.summonses[index];
                        assert_eq!(late, entry.at > summons.report_in_due);
                        assert_eq!(summons.reported_in_at, Some(entry.at));
                        if late {
                            tally.late_report_ins += 1;
                            // Marked late first, at the deadline.
                            assert_eq!(current, S::Overdue);
                        }
                        if status == E::Dispatched {
                            status = E::InProgress;
                        }
                    }
                    summonses[index] = (next, reported_in || entry.kind == K::ReportIn);
                }
            }
        }
        // The status and the states the story ends in are what the entries say.
        assert_eq!(event.status, status, "{life:?}");
        assert_eq!(story.summonses.len(), summonses.len());
        for (summons, (status, _)) in story.summonses.iter().zip(&summonses) {
            assert_eq!(summons.status, *status);
        }

        let at_of = |kind: K| entries.iter().find(|e| e.kind == kind).map(|e| e.at);
        let count = |kind: K| entries.iter().filter(|e| e.kind == kind).count();
        assert_eq!(event.accepted_at, at_of(K::Accepted));
        if status == E::Rejected {
            assert_eq!(event.accepted_at, None);
            assert!(story.whistles.is_empty());
        }
        let settled = matches!(status, E::Resolved | E::Closed);
        assert_eq!(
            event.resolved_at,
            resolutions.last().copied().filter(|_| settled)
        );
        assert_eq!(event.closed_at, at_of(K::Closed));
        assert_eq!(event.reworks, count(K::Reopened) as i64);
        assert_eq!(event.satisfaction, last_revisit);
        assert_eq!(event.escalated, escalated);
        assert_eq!(event.overdue_at, marked_at);
        assert!(event.updated_at >= plan.reported_at && event.updated_at < EVENTS_END);
        if status == E::Closed {
            tally.closed += 1;
            assert!(event.satisfaction.is_some_and(|s| s >= 3), "{life:?}");
            assert!(count(K::Resolved) >= 1 && count(K::Evaluated) == 1);
            assert_eq!(event.closed_at, Some(event.updated_at));
        }
        if event.reworks > 0 {
            assert!(count(K::Reopened) == 1 && count(K::Resolved) >= 1);
        }
        // The deadline watcher found the event's own deadline passed while it was open.
        let first_resolution = resolutions.first().copied();
        let open_past_due = match first_resolution {
            Some(resolved) => resolved > life.due_at + 5 * MINUTE,
            None => life.due_at + 5 * MINUTE < EVENTS_END && status != E::Rejected,
        };
        if open_past_due {
            assert!(
                event
                    .overdue_at
                    .is_some_and(|at| at <= life.due_at + 5 * MINUTE)
            );
        }
        tally.overdue_events += u32::from(event.overdue_at.is_some());

        // 诉调一体: the steps of a dispute's tier come before its resolution.
        let resolved = first_resolution.unwrap_or(EVENTS_END);
        let before_resolution = |kind: K| entries.iter().any(|e| e.kind == kind && e.at < resolved);
        match (settled || event.reworks > 0)
            .then_some(plan.tier)
            .flatten()
        {
            Some(ResolutionTier::Mediation) => {
                assert!(before_resolution(K::ReferredToMediation));
                assert!(before_resolution(K::MediationRecorded));
                assert_eq!(count(K::ReferredToCourt), 0);
                assert_eq!(event.resolution_tier, Some(ResolutionTier::Mediation));
            }
            Some(ResolutionTier::Litigation) => {
                assert!(before_resolution(K::ReferredToMediation));
                assert!(before_resolution(K::MediationRecorded));
                assert!(before_resolution(K::ReferredToCourt));
                assert_eq!(event.resolution_tier, Some(ResolutionTier::Litigation));
            }
            Some(ResolutionTier::Window) => {
                assert_eq!(count(K::ReferredToMediation), 0);
                assert_eq!(event.resolution_tier, Some(ResolutionTier::Window));
            }
            None => assert_eq!(event.resolution_tier, None),
        }
        if !life.category.is_dispute() {
            assert_eq!(count(K::ReferredToMediation) + count(K::ReferredToCourt), 0);
        }

        // Each summons' own times.
        for (index, summons) in story.summonses.iter().enumerate() {
            tally.summonses += 1;
            let whistle = story.whistles[summons.whistle as usize];
            let own = |kind: K| {
                entries
                    .iter()
                    .filter(move |e| e.kind == kind && e.summons == Some(index as u8))
            };
            assert_eq!(
                summons.report_in_due,
                whistle.blown_at + report_in_time(life.urgency)
            );
            assert!(summons.handling_due >= summons.report_in_due);
            if let Some(reported_in) = summons.reported_in_at {
                assert!(reported_in > whistle.blown_at);
            }
            match summons.done_at {
                Some(done) => {
                    assert!(summons.reported_in_at.is_some_and(|r| r < done));
                    assert_eq!(summons.status, S::Done);
                    assert!(first_resolution.is_none_or(|r| done < r || summons.whistle > 0));
                }
                None => assert_ne!(summons.status, S::Done),
            }
            assert_eq!(
                summons.decline_reason.is_some(),
                summons.status == S::Declined
            );
            match summons.status {
                S::Summoned => assert!(summons.reported_in_at.is_none()),
                S::ReportedIn | S::Acting => assert!(summons.reported_in_at.is_some()),
                S::Overdue => {
                    assert!(summons.overdue_marks > 0);
                    if summons.reported_in_at.is_none() {
                        tally.never_reported_in += 1;
                    }
                }
                _ => {}
            }
            assert_eq!(summons.overdue_marks, own(K::Overdue).count() as i64);
            tally.overdue_summonses += u32::from(summons.overdue_marks > 0);
            assert_eq!(own(K::Supervision).count(), own(K::Overdue).count());
            let granted = own(K::ExtensionDecided)
                .filter(|e| e.detail == Detail::ExtensionDecided { granted: true })
                .count();
            assert_eq!(summons.extensions, granted as i64);
            tally.extension_requests += own(K::ExtensionRequested).count() as u32;
            tally.extensions_granted += granted as u32;
            if granted > 0 {
                let requested = own(K::ExtensionRequested).next_back().map(|e| e.detail);
                let Some(Detail::ExtensionRequested { until, .. }) = requested else {
                    panic!("an extension granted without a request")
                };
                assert_eq!(summons.handling_due, until);
            }
            let pending = own(K::ExtensionRequested).count() > own(K::ExtensionDecided).count();
            assert_eq!(summons.extension_until.is_some(), pending);
            let last = entries
                .iter()
                .rev()
                .find(|e| e.summons == Some(index as u8));
            assert_eq!(last.map(|e| e.at), Some(summons.updated_at));
            for feedback in own(K::Feedback) {
                if let Detail::Feedback {
                    done: true, late, ..
                } = feedback.detail
                {
                    assert_eq!(late, feedback.at > summons.handling_due);
                }
            }
        }
    }

    #[test]
    fn histories_agree_with_the_workflow_and_their_columns() {
        let mut tally = Tally::default();
        for life in lives(40_000, 3) {
            let story = replay(&life);
            check(&life, &story, &mut tally);
            // The same life always gives the same history.
            let again = replay(&life);
            assert_eq!(again.entries, story.entries);
            assert_eq!(again.summonses, story.summonses);
            assert_eq!(again.event, story.event);
        }
        println!("{tally:?}");
        let share = |part: u32, whole: u32| f64::from(part) / f64::from(whole.max(1));
        let late = share(tally.late_report_ins, tally.report_ins);
        assert!(
            (0.08..=0.12).contains(&late),
            "late report-ins: {late} {tally:?}"
        );
        let unsatisfied = share(tally.unsatisfied_first_revisits, tally.first_revisits);
        assert!(
            (0.055..=0.085).contains(&unsatisfied),
            "unsatisfied first revisits: {unsatisfied}"
        );
        let extensions = share(tally.extension_requests, tally.summonses);
        assert!(
            (0.035..=0.065).contains(&extensions),
            "extensions: {extensions} {tally:?}"
        );
        let granted = share(tally.extensions_granted, tally.extension_requests);
        assert!((0.7..=0.9).contains(&granted), "granted: {granted}");
        let returned = share(tally.returned, tally.dispatched);
        assert!((0.04..=0.08).contains(&returned), "returned: {returned}");
        assert!(tally.never_reported_in > 0, "{tally:?}");
        assert!(tally.closed > 30_000, "{tally:?}");
    }

    #[test]
    fn an_unsatisfied_revisit_reopens_and_reworks() {
        let lives = lives(20_000, 8);
        let reworked: Vec<Story> = lives
            .iter()
            .filter(|l| {
                !l.plan.rejected && l.plan.satisfaction < 3 && l.plan.closed_at < EVENTS_END
            })
            .map(replay)
            .collect();
        assert!(reworked.len() > 500);
        for story in &reworked {
            let event = story.event();
            assert_eq!(event.reworks, 1);
            let kinds: Vec<TimelineKind> = story.entries.iter().map(|e| e.kind).collect();
            let reopened = kinds.iter().position(|k| *k == TimelineKind::Reopened);
            let evaluated = kinds.iter().rposition(|k| *k == TimelineKind::Evaluated);
            let resolved = kinds.iter().rposition(|k| *k == TimelineKind::Resolved);
            // Reopened, resolved again, revisited satisfied, closed: within the window.
            assert!(reopened < resolved && resolved < evaluated, "{kinds:?}");
            assert_eq!(kinds.last(), Some(&TimelineKind::Closed));
            assert_eq!(event.status, EventStatus::Closed);
            assert!(event.satisfaction.is_some_and(|s| s >= 3));
            let last_resolution = story.entries[resolved.unwrap_or(0)].at;
            assert_eq!(event.resolved_at, Some(last_resolution));
        }
    }

    #[test]
    fn a_life_is_small() {
        // 200,000 of them at city scale.
        assert!(
            std::mem::size_of::<Life>() <= 160,
            "{}",
            std::mem::size_of::<Life>()
        );
    }

    #[test]
    fn departments_are_suited_to_the_category() {
        for &category in EventCategory::ALL {
            let (lead, partner, wrong) = departments(category);
            assert_ne!(lead, wrong);
            assert_ne!(partner, Some(wrong));
            assert_ne!(partner, Some(lead));
        }
        assert_eq!(departments(EventCategory::NeighborDispute).0, Kind::Justice);
        assert_eq!(
            departments(EventCategory::LaborDispute).0,
            Kind::HumanResourcesSocialSecurity
        );
    }
}
