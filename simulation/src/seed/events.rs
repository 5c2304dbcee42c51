//! events and event_parties: two years of reports, 2024-11-01 to 2026-11-01 (Beijing
//! time).
//!
//! Each event is given a whole life (accepted, dispatched, perhaps returned or escalated,
//! resolved, closed) drawn from its urgency and category; its status is how far that life
//! had got when the window ends. Old events are therefore nearly all closed, recent ones
//! spread over the open states, and every timestamp is consistent with the status. The
//! workflow history leading there ([`super::history`]) gives the event's columns, and is
//! written to whistles, summonses and timeline after the events ([`super::workflow`]).

use super::copy::{Sender, Stopped};
use super::departments::{DEPARTMENT_TYPES, code, type_index};
use super::event_text::{Subject, compose, respondent_kinds, usual_places};
use super::history::{self, Counts, Life, Plan};
use super::jurisdictions::{COUNTIES, Tree};
use super::layout::allocate;
use super::organizations::Organizations;
use super::persons::Persons;
use super::places::Places;
use super::rng::Rng;
use super::time::{DAY, EVENTS_END, EVENTS_START, HOUR, MINUTE};
use schema::enums::{
    DepartmentKind, EventCategory, EventChannel, EventStatus, OrganizationKind, PartyRole,
    ResolutionTier, Urgency,
};

const URBAN_CATEGORIES: &[(EventCategory, u32)] = &[
    (EventCategory::NeighborDispute, 15),
    (EventCategory::FamilyDispute, 6),
    (EventCategory::LaborDispute, 7),
    (EventCategory::PropertyManagement, 15),
    (EventCategory::LandDispute, 1),
    (EventCategory::SafetyHazard, 12),
    (EventCategory::Environment, 8),
    (EventCategory::CityAppearance, 14),
    (EventCategory::ConsumerRights, 8),
    (EventCategory::SocialAssistance, 5),
    (EventCategory::PublicOrder, 5),
    (EventCategory::Traffic, 4),
];

const RURAL_CATEGORIES: &[(EventCategory, u32)] = &[
    (EventCategory::NeighborDispute, 15),
    (EventCategory::FamilyDispute, 10),
    (EventCategory::LaborDispute, 6),
    (EventCategory::PropertyManagement, 1),
    (EventCategory::LandDispute, 18),
    (EventCategory::SafetyHazard, 10),
    (EventCategory::Environment, 10),
    (EventCategory::CityAppearance, 5),
    (EventCategory::ConsumerRights, 4),
    (EventCategory::SocialAssistance, 12),
    (EventCategory::PublicOrder, 5),
    (EventCategory::Traffic, 4),
];

/// Grid workers' terminals bring in most events (一键上报), then the 12345 hotline.
const CHANNELS: &[(EventChannel, u32)] = &[
    (EventChannel::GridTerminal, 45),
    (EventChannel::Hotline12345, 30),
    (EventChannel::Window, 10),
    (EventChannel::Online, 10),
    (EventChannel::LetterVisit, 5),
];

const URGENCIES: &[(Urgency, u32)] = &[
    (Urgency::Low, 15),
    (Urgency::Normal, 65),
    (Urgency::High, 15),
    (Urgency::Critical, 5),
];

const HAZARD_URGENCIES: &[(Urgency, u32)] = &[
    (Urgency::Normal, 45),
    (Urgency::High, 40),
    (Urgency::Critical, 15),
];

/// 一楼窗口随时解、二楼各室深入调、争取不进三楼庭: most disputes are settled at the
/// window, many by mediation, few in court.
const TIERS: &[(ResolutionTier, u32)] = &[
    (ResolutionTier::Window, 60),
    (ResolutionTier::Mediation, 32),
    (ResolutionTier::Litigation, 8),
];

const SATISFACTION: &[(i64, u32)] = &[(5, 55), (4, 28), (3, 10), (2, 4), (1, 3)];

/// Reports by hour of the day (Beijing time): office hours and evenings.
const HOURS: [u32; 24] = [
    1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 11, 8, 9, 12, 12, 11, 10, 8, 7, 6, 4, 3, 2,
];

/// Days allowed to handle an event.
pub(super) fn due_days(urgency: Urgency) -> i64 {
    match urgency {
        Urgency::Low => 15,
        Urgency::Normal => 7,
        Urgency::High => 3,
        Urgency::Critical => 1,
    }
}

/// The stage times of an event's life, drawn from the events stream. Its workflow
/// history ([`history`]) is drawn around them from a stream of its own, so that the
/// history never shifts the draws of later events, their parties or links.
pub(super) fn outcome(
    rng: &mut Rng,
    reported_at: i64,
    urgency: Urgency,
    category: EventCategory,
) -> Plan {
    // Longest delays (minutes) to accept, dispatch and start work.
    let (accept, dispatch, start) = match urgency {
        Urgency::Critical => (30, 30, 120),
        Urgency::High => (60, 120, 600),
        Urgency::Normal => (1_440, 2_160, 4_320),
        Urgency::Low => (2_880, 2_880, 7_200),
    };
    let mut t = reported_at;
    let mut after = |rng: &mut Rng, low: i64, high: i64| {
        t += rng.range(low, high);
        t
    };
    let decided_at = after(rng, 2 * MINUTE, accept * MINUTE);
    let rejected = rng.per_mille(40);
    let tier = category.is_dispute().then(|| rng.pick_weighted(TIERS));
    let mut plan = Plan {
        reported_at,
        decided_at,
        rejected,
        dispatched_at: decided_at,
        returned: None,
        in_progress_at: decided_at,
        escalated: None,
        resolved_at: decided_at,
        closed_at: decided_at,
        tier,
        satisfaction: 5,
    };
    if !rejected {
        plan.dispatched_at = after(rng, 5 * MINUTE, dispatch * MINUTE);
        if rng.percent(6) {
            // Sent back by a department that finds it is not theirs, then re-dispatched.
            let returned = after(rng, HOUR, 2 * DAY);
            let again = after(rng, 2 * HOUR, 4 * DAY);
            plan.returned = Some((returned, again));
        }
        plan.in_progress_at = after(rng, 10 * MINUTE, start * MINUTE);
        if rng.percent(4) {
            let escalated = after(rng, DAY, 7 * DAY);
            let resumed = after(rng, 5 * DAY, 45 * DAY);
            plan.escalated = Some((escalated, resumed));
        }
        let due = due_days(urgency) * DAY;
        let (low, high) = match tier {
            Some(ResolutionTier::Window) => (HOUR, 3 * DAY),
            Some(ResolutionTier::Mediation) => (2 * DAY, 20 * DAY),
            Some(ResolutionTier::Litigation) => (20 * DAY, 120 * DAY),
            None => (due / 10, due * 6 / 5),
        };
        // Some wait on another party (a repair crew, a court date) far beyond the norm.
        let stalled = if rng.percent(12) {
            rng.range(3 * DAY, 30 * DAY)
        } else {
            0
        };
        plan.resolved_at = after(rng, low + stalled, high + stalled);
        // The closing call-back (回访) comes a little later.
        plan.closed_at = after(rng, 2 * HOUR, 7 * DAY);
    }
    plan.satisfaction = rng.pick_weighted(SATISFACTION);
    plan
}

/// Report times, sorted so that ids follow them. Use grows over the two years (more
/// residents learn of the platform), hence the skew towards later days.
fn report_times(rng: &mut Rng, count: u64) -> Vec<i64> {
    let days = (EVENTS_END - EVENTS_START) / DAY;
    let mut times: Vec<i64> = (0..count)
        .map(|_| {
            let mut day = rng.below(days as u64) as i64;
            if rng.percent(30) {
                day = day.max(rng.below(days as u64) as i64);
            }
            let hour = rng.weighted(&HOURS) as i64;
            EVENTS_START + day * DAY + hour * HOUR + rng.below(HOUR as u64) as i64
        })
        .collect();
    times.sort_unstable();
    times
}

/// A party of an event: (event, position, role, person, organization).
pub type Party = (i64, i64, PartyRole, Option<i64>, Option<i64>);

/// What writing the events leaves for the tables after them.
pub struct Written {
    pub parties: Vec<Party>,
    pub links: Vec<EventLink>,
    /// Event `i + 1` lived `lives[i]`.
    pub lives: Vec<Life>,
}

pub const COLUMNS: &str = "id, title, description, category, channel, urgency, status, \
                           reporter_id, place_id, jurisdiction_code, resolution_tier, tier, \
                           satisfaction, reported_at, updated_at, due_at, resolved_at, closed_at, \
                           accepted_at, reworks, overdue_at, handling_code, revisit_comment";

pub fn write(
    out: &Sender,
    seed: u64,
    tree: &Tree,
    places: &Places,
    persons: &Persons,
    organizations: &Organizations,
    total: u64,
) -> Result<Written, Stopped> {
    let mut rng = Rng::stream(seed, "event-times");
    let times = report_times(&mut rng, total);
    // Events fall on grids in proportion to their residents, in random order over time.
    let weights: Vec<u64> = (0..tree.grids.len())
        .map(|g| persons.ranges.count(g))
        .collect();
    let mut grid_of_event: Vec<usize> = allocate(total, &weights, 0)
        .iter()
        .enumerate()
        .flat_map(|(g, &count)| std::iter::repeat_n(g, count as usize))
        .collect();
    rng.shuffle(&mut grid_of_event);

    let county_persons: Vec<_> = (0..COUNTIES.len())
        .map(|c| persons.ranges.span(tree.county_grids(c)))
        .collect();
    let county_organizations: Vec<_> = (0..COUNTIES.len())
        .map(|c| organizations.ranges.span(tree.county_grids(c)))
        .collect();

    let mut rng = Rng::stream(seed, "events");
    // One number per event, which its whole workflow history is drawn from.
    let mut history_seeds = Rng::stream(seed, "history");
    let mut table = out.table("events", COLUMNS, total)?;
    let mut parties = Vec::with_capacity(total as usize * 2);
    let mut event_links = Vec::new();
    let mut lives = Vec::with_capacity(total as usize);
    for (index, (&reported_at, &g)) in times.iter().zip(&grid_of_event).enumerate() {
        let id = index as i64 + 1;
        let grid = &tree.grids[g];
        let residents = persons.ranges.grid(g);
        let neighbours = county_persons[grid.county].clone();
        let category = if grid.village {
            rng.pick_weighted(RURAL_CATEGORIES)
        } else {
            rng.pick_weighted(URBAN_CATEGORIES)
        };
        let channel = rng.pick_weighted(CHANNELS);
        let urgency = if category == EventCategory::SafetyHazard {
            rng.pick_weighted(HAZARD_URGENCIES)
        } else {
            rng.pick_weighted(URGENCIES)
        };
        let anonymous = channel == EventChannel::Hotline12345 && rng.percent(50);
        let reporter = if anonymous {
            None
        } else {
            persons
                .pick_adult(&mut rng, residents.clone(), &[])
                .or_else(|| persons.pick_adult(&mut rng, neighbours.clone(), &[]))
        };

        let mut place = if rng.percent(90) {
            places.pick(&mut rng, g, usual_places(category))
        } else {
            None
        };
        let respondent = respondent(
            &mut rng,
            category,
            organizations,
            g,
            &county_organizations[grid.county],
        );
        // A complaint against a business of this grid happened at its premises.
        if let Some(organization) = respondent
            && organizations.ranges.grid(g).contains(&organization)
            && let Some(premises) = organizations.place(organization)
        {
            place = Some(premises);
        }
        let subject = Subject {
            place: place.map_or(grid.community.as_str(), |p| places.name(p)),
            community: &grid.community,
            organization: respondent.map_or(
                match category {
                    EventCategory::LandDispute => "承包方",
                    EventCategory::ConsumerRights => "某商户",
                    _ => "某用工单位",
                },
                |o| organizations.name(o),
            ),
        };
        let (title, description) = compose(&mut rng, category, grid.village, &subject);
        let plan = outcome(&mut rng, reported_at, urgency, category);
        let due_at = reported_at + due_days(urgency) * DAY;
        let mut life = Life {
            plan,
            seed: history_seeds.next_u64(),
            grid: g as u32,
            category,
            channel,
            urgency,
            due_at,
            counts: Counts::default(),
        };
        let story = history::replay(&life);
        life.counts = story.counts();
        lives.push(life);
        let state = story.event();
        let settled = matches!(state.status, EventStatus::Resolved | EventStatus::Closed);
        // Resolved at this tier, now or before a reopening.
        let resolution_tier = state.resolution_tier;

        table
            .row()
            .int(id)
            .text(&title)
            .text(&description)
            .text(category.as_str())
            .text(channel.as_str())
            .text(urgency.as_str())
            .text(state.status.as_str())
            .opt_int(reporter)
            .opt_int(place)
            .text(&grid.code)
            .opt_text(resolution_tier.map(ResolutionTier::as_str))
            .text(state.tier.as_str())
            .opt_int(state.satisfaction)
            .timestamp(reported_at)
            .timestamp(state.updated_at)
            .timestamp(due_at)
            .opt_timestamp(state.resolved_at.filter(|_| settled))
            .opt_timestamp(state.closed_at)
            .opt_timestamp(state.accepted_at)
            .int(state.reworks)
            .opt_timestamp(state.overdue_at)
            .opt_text(state.escalated.then(|| &grid.code[..6]))
            .opt_text(state.revisit_comment);
        table.end_row()?;
        for kind in holders(id, channel, category, resolution_tier) {
            event_links.push((id, grid.county, kind));
        }

        // The parties: who applies, against whom, and who saw it.
        let mut people: Vec<i64> = Vec::with_capacity(3);
        let applicant = reporter
            .or_else(|| persons.pick_adult(&mut rng, residents.clone(), &[]))
            .or_else(|| persons.pick_adult(&mut rng, neighbours.clone(), &[]));
        let mut position = 0;
        let mut add = |role: PartyRole, person: Option<i64>, organization: Option<i64>| {
            parties.push((id, position, role, person, organization));
            position += 1;
        };
        if let Some(applicant) = applicant {
            people.push(applicant);
            add(PartyRole::Applicant, Some(applicant), None);
        }
        let person_respondent = matches!(
            category,
            EventCategory::NeighborDispute
                | EventCategory::FamilyDispute
                | EventCategory::LandDispute
        ) && respondent.is_none();
        if let Some(organization) = respondent {
            add(PartyRole::Respondent, None, Some(organization));
        } else if person_respondent {
            let other = persons
                .pick_adult(&mut rng, residents.clone(), &people)
                .or_else(|| persons.pick_adult(&mut rng, neighbours.clone(), &people));
            if let Some(other) = other {
                people.push(other);
                add(PartyRole::Respondent, Some(other), None);
            }
        }
        let witness_odds = if category.is_dispute() { 25 } else { 10 };
        if rng.percent(witness_odds) {
            let witness = persons
                .pick_adult(&mut rng, residents.clone(), &people)
                .or_else(|| persons.pick_adult(&mut rng, neighbours.clone(), &people));
            if let Some(witness) = witness {
                add(PartyRole::Witness, Some(witness), None);
            }
        }
    }
    table.finish()?;
    Ok(Written {
        parties,
        links: event_links,
        lives,
    })
}

/// The organization an event is lodged against: the employer in a labour dispute, the
/// seller in a consumer complaint, the estate's property company, a co-operative behind
/// unpaid land rent, or the business behind a hazard or pollution.
fn respondent(
    rng: &mut Rng,
    category: EventCategory,
    organizations: &Organizations,
    grid: usize,
    county: &std::ops::Range<i64>,
) -> Option<i64> {
    let local = organizations.ranges.grid(grid);
    let nearby = |rng: &mut Rng, kinds: &[OrganizationKind]| {
        let range = if local.is_empty() {
            county.clone()
        } else {
            local.clone()
        };
        organizations.pick(rng, range, kinds)
    };
    let strictly = |id: Option<i64>, kinds: &[OrganizationKind]| {
        id.filter(|&o| kinds.contains(&organizations.kind(o)))
    };
    let kinds = respondent_kinds(category);
    match category {
        EventCategory::LaborDispute => organizations.pick(rng, county.clone(), kinds),
        EventCategory::ConsumerRights => nearby(rng, kinds),
        EventCategory::PropertyManagement => {
            let id = nearby(rng, kinds);
            strictly(id, kinds)
        }
        EventCategory::LandDispute if rng.percent(40) => {
            let id = organizations.pick(rng, county.clone(), kinds);
            strictly(id, kinds)
        }
        EventCategory::SafetyHazard | EventCategory::Environment
            if rng.percent(40) && !local.is_empty() =>
        {
            let business = [
                OrganizationKind::IndividualBusiness,
                OrganizationKind::Enterprise,
            ];
            let id = organizations.pick(rng, local.clone(), &business);
            strictly(id, &business).filter(|&o| organizations.place(o).is_some())
        }
        _ => None,
    }
}

pub const PARTY_COLUMNS: &str = "event_id, position, role, person_id, organization_id";

/// An event a department system holds a case file on: (event, county, department).
pub type EventLink = (i64, usize, DepartmentKind);

/// Which department systems hold a file on an event: the petitions bureau on letters and
/// visits (信访件), the justice bureau on mediated disputes (人民调解), the court on
/// litigated ones (案件), and the procuratorate on a quarter of environment and safety
/// cases (公益诉讼线索).
fn holders(
    id: i64,
    channel: EventChannel,
    category: EventCategory,
    tier: Option<ResolutionTier>,
) -> Vec<DepartmentKind> {
    let mut holders = Vec::new();
    if channel == EventChannel::LetterVisit {
        holders.push(DepartmentKind::Petitions);
    }
    match tier {
        Some(ResolutionTier::Mediation) => holders.push(DepartmentKind::Justice),
        Some(ResolutionTier::Litigation) => holders.push(DepartmentKind::Court),
        _ => {}
    }
    if matches!(
        category,
        EventCategory::Environment | EventCategory::SafetyHazard
    ) && id % 4 == 0
    {
        holders.push(DepartmentKind::Procuratorate);
    }
    holders
}

pub const LINK_COLUMNS: &str = "event_id, department_code, source_id";

/// event_links, with source ids in each department's style: a tag, the county code and
/// a serial per department.
pub fn write_links(out: &Sender, links: &[EventLink]) -> Result<u64, Stopped> {
    let mut table = out.table("event_links", LINK_COLUMNS, links.len() as u64)?;
    let mut serials = vec![0u64; COUNTIES.len() * DEPARTMENT_TYPES.len()];
    for &(event, county, kind) in links {
        let type_index = type_index(kind);
        let serial = &mut serials[county * DEPARTMENT_TYPES.len() + type_index];
        *serial += 1;
        let tag = match kind {
            DepartmentKind::Petitions => "XFJ",
            DepartmentKind::Justice => "TJ",
            DepartmentKind::Court => "AH",
            _ => "GY",
        };
        table
            .row()
            .int(event)
            .text(&code(&COUNTIES[county], type_index))
            .text(&format!("{tag}{}{serial:08}", COUNTIES[county].code));
        table.end_row()?;
    }
    table.finish()
}

pub fn write_parties(out: &Sender, parties: &[Party]) -> Result<u64, Stopped> {
    let mut table = out.table("event_parties", PARTY_COLUMNS, parties.len() as u64)?;
    for &(event, position, role, person, organization) in parties {
        table
            .row()
            .int(event)
            .int(position)
            .text(role.as_str())
            .opt_int(person)
            .opt_int(organization);
        table.end_row()?;
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_consistent_with_their_status() {
        let mut rng = Rng::new(11);
        let mut seeds = Rng::new(12);
        let mut old_closed = 0;
        let mut old = 0;
        for i in 0..20_000 {
            let reported_at = EVENTS_START + (i * 3_163) % (EVENTS_END - EVENTS_START);
            let urgency = *rng.pick(Urgency::ALL);
            let category = *rng.pick(EventCategory::ALL);
            let plan = outcome(&mut rng, reported_at, urgency, category);
            let life = Life {
                plan,
                seed: seeds.next_u64(),
                grid: 0,
                category,
                channel: EventChannel::GridTerminal,
                urgency,
                due_at: reported_at + due_days(urgency) * DAY,
                counts: Counts::default(),
            };
            let o = history::replay(&life).event();
            assert!(o.updated_at >= reported_at && o.updated_at < EVENTS_END);
            let settled = matches!(o.status, EventStatus::Resolved | EventStatus::Closed);
            assert_eq!(o.resolved_at.is_some(), settled);
            assert_eq!(o.closed_at.is_some(), o.status == EventStatus::Closed);
            if o.status == EventStatus::Closed {
                assert!(o.satisfaction.is_some_and(|s| s >= 3));
            }
            if let (Some(resolved), Some(closed)) = (o.resolved_at, o.closed_at) {
                assert!(reported_at < resolved && resolved < closed && closed == o.updated_at);
            }
            if o.resolution_tier.is_some() {
                assert!(category.is_dispute() && (settled || o.reworks > 0));
            }
            // Without rework the plan's resolution and closing stand.
            if o.reworks == 0 && o.status == EventStatus::Closed {
                assert_eq!(o.resolved_at, Some(plan.resolved_at));
                assert_eq!(o.closed_at, Some(plan.closed_at));
                assert_eq!(o.satisfaction, Some(plan.satisfaction));
            }
            if reported_at < EVENTS_END - 60 * DAY {
                old += 1;
                old_closed += u32::from(o.status == EventStatus::Closed);
            }
        }
        assert!(f64::from(old_closed) / f64::from(old) > 0.85);
    }

    #[test]
    fn report_times_are_sorted_and_in_the_window() {
        let times = report_times(&mut Rng::new(5), 5_000);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            times
                .iter()
                .all(|&t| (EVENTS_START..EVENTS_END).contains(&t))
        );
    }
}
