//! organizations (companies, shops, co-operatives, associations, schools and clinics)
//! and their members.

use std::collections::HashSet;

use super::codes::credit_code;
use super::copy::{Sender, Stopped};
use super::jurisdictions::{CITY_NAME, Grid, Tree};
use super::layout::Ranges;
use super::links::Links;
use super::persons::Persons;
use super::places::{Places, stem};
use super::rng::Rng;
use super::time::{ENTITIES_START, EVENTS_START};
use super::vocabulary::{
    COOPERATIVE_TRADES, INDUSTRIES, SHOP_TYPES, SOCIAL_ORGANIZATIONS, TOWNSHIP_INSTITUTIONS,
    trade_name,
};
use schema::enums::{DepartmentKind, OrganizationKind, OrganizationRole, PlaceKind};

/// What later tables need to know of each organization.
pub struct Organizations {
    pub ranges: Ranges,
    kinds: Vec<OrganizationKind>,
    places: Vec<Option<i64>>,
    names: Vec<String>,
    credit_codes: Vec<String>,
    /// (organization, person, role), in organization order.
    members: Vec<(i64, i64, OrganizationRole)>,
}

impl Organizations {
    fn slot(&self, id: i64) -> usize {
        (id - self.ranges.all().start) as usize
    }

    pub fn kind(&self, id: i64) -> OrganizationKind {
        self.kinds[self.slot(id)]
    }

    pub fn place(&self, id: i64) -> Option<i64> {
        self.places[self.slot(id)]
    }

    pub fn name(&self, id: i64) -> &str {
        &self.names[self.slot(id)]
    }

    pub fn credit_code(&self, id: i64) -> &str {
        &self.credit_codes[self.slot(id)]
    }

    /// An organization of the ids `range` of one of `kinds` (a few tries, then any).
    pub fn pick(
        &self,
        rng: &mut Rng,
        range: std::ops::Range<i64>,
        kinds: &[OrganizationKind],
    ) -> Option<i64> {
        if range.is_empty() {
            return None;
        }
        let mut any = None;
        for _ in 0..8 {
            let id = rng.range(range.start, range.end - 1);
            if kinds.contains(&self.kind(id)) {
                return Some(id);
            }
            any.get_or_insert(id);
        }
        any
    }
}

const URBAN_KINDS: &[(OrganizationKind, u32)] = &[
    (OrganizationKind::IndividualBusiness, 45),
    (OrganizationKind::Enterprise, 28),
    (OrganizationKind::PropertyManagement, 7),
    (OrganizationKind::SocialOrganization, 7),
    (OrganizationKind::PublicInstitution, 8),
    (OrganizationKind::Cooperative, 2),
];

const RURAL_KINDS: &[(OrganizationKind, u32)] = &[
    (OrganizationKind::IndividualBusiness, 35),
    (OrganizationKind::Enterprise, 18),
    (OrganizationKind::SocialOrganization, 6),
    (OrganizationKind::PublicInstitution, 11),
    (OrganizationKind::Cooperative, 30),
];

/// Business premises, where an organization without a more specific kind of place sits.
const PREMISES: &[PlaceKind] = &[
    PlaceKind::Shop,
    PlaceKind::Office,
    PlaceKind::Factory,
    PlaceKind::Market,
];

fn usual_places(kind: OrganizationKind) -> &'static [PlaceKind] {
    use PlaceKind as P;
    match kind {
        OrganizationKind::Enterprise => &[P::Office, P::Factory],
        OrganizationKind::IndividualBusiness => &[P::Shop, P::Market],
        OrganizationKind::SocialOrganization => &[P::Office, P::PublicSpace],
        OrganizationKind::PropertyManagement => &[P::Office, P::Residence],
        OrganizationKind::Cooperative => &[P::Factory, P::Farmland, P::Office],
        OrganizationKind::PublicInstitution => &[P::School, P::Hospital],
    }
}

/// The registering authority and category of the credit code: 9x market entities
/// (91 company, 92 individual business, 93 co-operative), 51 social organization,
/// 12 public institution.
fn credit_prefix(kind: OrganizationKind) -> &'static str {
    match kind {
        OrganizationKind::Enterprise | OrganizationKind::PropertyManagement => "91",
        OrganizationKind::IndividualBusiness => "92",
        OrganizationKind::Cooperative => "93",
        OrganizationKind::SocialOrganization => "51",
        OrganizationKind::PublicInstitution => "12",
    }
}

fn name(
    rng: &mut Rng,
    grid: &Grid,
    kind: OrganizationKind,
    place: Option<(PlaceKind, &str)>,
) -> String {
    let county = grid.county();
    let trade = trade_name(rng);
    let area = if grid.core { CITY_NAME } else { county.name };
    match kind {
        OrganizationKind::Enterprise => {
            let form = if rng.percent(70) {
                "有限公司"
            } else {
                "有限责任公司"
            };
            format!("{area}{trade}{}{form}", rng.pick(INDUSTRIES))
        }
        OrganizationKind::IndividualBusiness => match place {
            // A shop registers under its sign.
            Some((PlaceKind::Shop, sign)) => format!("{}{sign}", county.name),
            _ => format!("{}{trade}{}", county.name, rng.pick(SHOP_TYPES)),
        },
        OrganizationKind::PropertyManagement => {
            if rng.percent(50) {
                format!("{CITY_NAME}{trade}物业服务有限公司")
            } else {
                format!("{}{}物业服务有限公司", CITY_NAME, stem(&grid.community))
            }
        }
        OrganizationKind::Cooperative => {
            let at = if grid.village {
                &grid.community
            } else {
                &grid.township
            };
            format!(
                "{}{at}{}农民专业合作社",
                county.name,
                rng.pick(COOPERATIVE_TRADES)
            )
        }
        OrganizationKind::SocialOrganization => {
            if rng.percent(60) {
                format!("{}{}", grid.community, rng.pick(SOCIAL_ORGANIZATIONS))
            } else {
                format!("{}{}", county.name, rng.pick(SOCIAL_ORGANIZATIONS))
            }
        }
        OrganizationKind::PublicInstitution => match place {
            // A school or clinic is itself the institution.
            Some((PlaceKind::School | PlaceKind::Hospital, name)) => name.to_owned(),
            _ => format!("{}{}", grid.township, rng.pick(TOWNSHIP_INSTITUTIONS)),
        },
    }
}

/// Which registers hold an organization besides market regulation (which holds all).
fn link(rng: &mut Rng, kind: OrganizationKind, place: Option<PlaceKind>, links: &mut Links) {
    links.add(DepartmentKind::MarketRegulation);
    match kind {
        OrganizationKind::Enterprise | OrganizationKind::PropertyManagement => {
            links.add(DepartmentKind::Taxation);
            if rng.percent(60) {
                links.add(DepartmentKind::HumanResourcesSocialSecurity);
            }
            if place == Some(PlaceKind::Factory) && rng.percent(60) {
                links.add(DepartmentKind::EcologyEnvironment);
            }
        }
        OrganizationKind::IndividualBusiness => {
            if rng.percent(40) {
                links.add(DepartmentKind::Taxation);
            }
        }
        OrganizationKind::Cooperative => {
            if rng.percent(80) {
                links.add(DepartmentKind::AgricultureRural);
            }
        }
        OrganizationKind::SocialOrganization => links.add(DepartmentKind::CivilAffairs),
        OrganizationKind::PublicInstitution => match place {
            Some(PlaceKind::School) => links.add(DepartmentKind::Education),
            Some(PlaceKind::Hospital) => links.add(DepartmentKind::HealthCommission),
            _ => {}
        },
    }
}

/// How many members besides the legal representative.
const EXTRA_MEMBERS: &[(usize, u32)] = &[(0, 25), (1, 25), (2, 20), (3, 15), (4, 10), (5, 5)];

pub const COLUMNS: &str = "id, name, kind, credit_code, place_id, jurisdiction_code, created_at";

pub fn write(
    out: &Sender,
    seed: u64,
    tree: &Tree,
    places: &Places,
    persons: &Persons,
    ranges: Ranges,
    links: &mut Links,
) -> Result<Organizations, Stopped> {
    let mut rng = Rng::stream(seed, "organizations");
    let total = (ranges.all().end - ranges.all().start) as u64;
    let mut table = out.table("organizations", COLUMNS, total)?;
    let mut organizations = Organizations {
        kinds: Vec::with_capacity(total as usize),
        places: Vec::with_capacity(total as usize),
        names: Vec::with_capacity(total as usize),
        credit_codes: Vec::with_capacity(total as usize),
        members: Vec::new(),
        ranges,
    };
    let county_persons: Vec<_> = (0..super::jurisdictions::COUNTIES.len())
        .map(|c| persons.ranges.span(tree.county_grids(c)))
        .collect();
    let mut company_names = HashSet::new();
    let mut index = 0;
    for (g, grid) in tree.grids.iter().enumerate() {
        for id in organizations.ranges.grid(g) {
            let kind = if grid.village {
                rng.pick_weighted(RURAL_KINDS)
            } else {
                rng.pick_weighted(URBAN_KINDS)
            };
            let place = places
                .pick_of(&mut rng, g, usual_places(kind))
                .or_else(|| places.pick_of(&mut rng, g, PREMISES));
            let place_kind = place.map(|p| places.kind(p));
            let signboard = place.map(|p| (places.kind(p), places.name(p)));
            let mut name = name(&mut rng, grid, kind, signboard);
            // A company's registered name is unique; shops and associations may share one.
            if matches!(
                kind,
                OrganizationKind::Enterprise | OrganizationKind::PropertyManagement
            ) {
                for _ in 0..8 {
                    if company_names.insert(name.clone()) {
                        break;
                    }
                    name = self::name(&mut rng, grid, kind, signboard);
                }
            }
            let credit_code = credit_code(credit_prefix(kind), grid.county().code, index);
            index += 1;
            let created_at = rng.range(ENTITIES_START, EVENTS_START - 1);
            table
                .row()
                .int(id)
                .text(&name)
                .text(kind.as_str())
                .text(&credit_code)
                .opt_int(place)
                .text(&grid.code)
                .timestamp(created_at);
            table.end_row()?;
            links.push_entity();
            link(&mut rng, kind, place_kind, links);

            let staff = county_persons[grid.county].clone();
            let mut chosen: Vec<i64> = Vec::with_capacity(6);
            for position in 0..=rng.pick_weighted(EXTRA_MEMBERS) {
                let Some(person) = persons.pick_adult(&mut rng, staff.clone(), &chosen) else {
                    break;
                };
                chosen.push(person);
                let role = match position {
                    0 => OrganizationRole::LegalRepresentative,
                    1 if rng.percent(60) => OrganizationRole::Manager,
                    _ if rng.percent(10) => OrganizationRole::Manager,
                    _ => OrganizationRole::Employee,
                };
                organizations.members.push((id, person, role));
            }

            organizations.kinds.push(kind);
            organizations.places.push(place);
            organizations.names.push(name);
            organizations.credit_codes.push(credit_code);
        }
    }
    table.finish()?;
    Ok(organizations)
}

pub const MEMBER_COLUMNS: &str = "organization_id, person_id, role";

pub fn write_members(out: &Sender, organizations: &Organizations) -> Result<u64, Stopped> {
    let members = &organizations.members;
    let mut table = out.table("organization_members", MEMBER_COLUMNS, members.len() as u64)?;
    for &(organization, person, role) in members {
        table
            .row()
            .int(organization)
            .int(person)
            .text(role.as_str());
        table.end_row()?;
    }
    table.finish()
}
