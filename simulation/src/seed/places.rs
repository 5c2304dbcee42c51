//! places: the buildings, shops, schools, fields... of each grid.

use super::copy::{Sender, Stopped};
use super::jurisdictions::{CITY_NAME, Grid};
use super::layout::Ranges;
use super::links::Links;
use super::rng::Rng;
use super::time::{ENTITIES_START, EVENTS_START};
use super::vocabulary::{
    FACTORY_TYPES, PUBLIC_SPACES, ROADS, SHOP_TYPES, chinese_number, estate_name, trade_name,
};
use schema::enums::{DepartmentKind, PlaceKind};

/// The places and what later tables need of them.
pub struct Places {
    pub ranges: Ranges,
    kinds: Vec<PlaceKind>,
    names: Vec<String>,
}

impl Places {
    fn slot(&self, id: i64) -> usize {
        (id - self.ranges.all().start) as usize
    }

    pub fn kind(&self, id: i64) -> PlaceKind {
        self.kinds[self.slot(id)]
    }

    pub fn name(&self, id: i64) -> &str {
        &self.names[self.slot(id)]
    }

    /// A place of grid `grid` of one of `kinds`, or `None` if the grid has none.
    pub fn pick_of(&self, rng: &mut Rng, grid: usize, kinds: &[PlaceKind]) -> Option<i64> {
        let range = self.ranges.grid(grid);
        let len = range.end - range.start;
        if len == 0 {
            return None;
        }
        // A few random draws find one quickly when the kind is common...
        for _ in 0..8 {
            let id = range.start + rng.below(len as u64) as i64;
            if kinds.contains(&self.kind(id)) {
                return Some(id);
            }
        }
        // ...and a scan from a random point settles whether there is any.
        let offset = rng.below(len as u64) as i64;
        (0..len)
            .map(|i| range.start + (offset + i) % len)
            .find(|&id| kinds.contains(&self.kind(id)))
    }

    /// A place of grid `grid`, preferably of one of `kinds`; `None` only for a grid
    /// without places.
    pub fn pick(&self, rng: &mut Rng, grid: usize, kinds: &[PlaceKind]) -> Option<i64> {
        self.pick_of(rng, grid, kinds)
            .or_else(|| self.any(rng, grid))
    }

    /// Any place of grid `grid`.
    pub fn any(&self, rng: &mut Rng, grid: usize) -> Option<i64> {
        let range = self.ranges.grid(grid);
        (!range.is_empty()).then(|| rng.range(range.start, range.end - 1))
    }
}

const URBAN_KINDS: &[(PlaceKind, u32)] = &[
    (PlaceKind::Residence, 55),
    (PlaceKind::Shop, 22),
    (PlaceKind::Office, 6),
    (PlaceKind::School, 3),
    (PlaceKind::Hospital, 2),
    (PlaceKind::Market, 2),
    (PlaceKind::Factory, 3),
    (PlaceKind::PublicSpace, 5),
];

const RURAL_KINDS: &[(PlaceKind, u32)] = &[
    (PlaceKind::Residence, 52),
    (PlaceKind::Farmland, 22),
    (PlaceKind::Shop, 8),
    (PlaceKind::Factory, 5),
    (PlaceKind::Market, 2),
    (PlaceKind::School, 3),
    (PlaceKind::Hospital, 2),
    (PlaceKind::Office, 3),
    (PlaceKind::PublicSpace, 3),
];

/// 向阳社区 → 向阳, 王家村 → 王家.
pub fn stem(community: &str) -> &str {
    community
        .strip_suffix("社区")
        .or_else(|| community.strip_suffix('村'))
        .unwrap_or(community)
}

/// Naming state of one grid: its housing estates and street numbers, or its villagers'
/// groups (组) and house numbers.
struct GridNames<'a> {
    grid: &'a Grid,
    estates: Vec<(String, u32)>,
    road: &'static str,
    street_number: u32,
    houses: u32,
}

impl<'a> GridNames<'a> {
    fn new(rng: &mut Rng, grid: &'a Grid) -> Self {
        let estate_count = 1 + rng.index(2);
        Self {
            grid,
            estates: (0..estate_count)
                .map(|_| (estate_name(rng, stem(&grid.community)), 0))
                .collect(),
            road: *rng.pick(ROADS),
            street_number: 1 + rng.below(300) as u32,
            houses: 0,
        }
    }

    /// Village grids take three villagers' groups each: 第1网格 is 一组 to 三组, ...
    fn group(&self, rng: &mut Rng) -> String {
        chinese_number((self.grid.number - 1) * 3 + 1 + rng.index(3) as u32)
    }

    fn next_street_number(&mut self, rng: &mut Rng) -> u32 {
        self.street_number += 1 + rng.below(4) as u32;
        self.street_number
    }

    /// Name and address of the next place of `kind`.
    fn place(
        &mut self,
        rng: &mut Rng,
        kind: PlaceKind,
        counters: &mut Counters,
    ) -> (String, String) {
        let grid = self.grid;
        let community = stem(&grid.community);
        let county = grid.county();
        let trade = trade_name(rng);
        if grid.village {
            let group = self.group(rng);
            let name = match kind {
                PlaceKind::Residence => {
                    self.houses += 1;
                    let name = format!("{}{group}组{}号", grid.community, self.houses);
                    return (
                        name.clone(),
                        format!("{}{group}组{}号", grid.address, self.houses),
                    );
                }
                PlaceKind::Farmland => match rng.index(3) {
                    0 => format!("{}{group}组林地", grid.community),
                    _ => format!(
                        "{}{group}组承包地{}号地块",
                        grid.community,
                        1 + rng.below(60)
                    ),
                },
                PlaceKind::Shop => format!("{trade}{}", rng.pick(SHOP_TYPES)),
                PlaceKind::Factory => format!("{}{trade}{}", county.name, rng.pick(FACTORY_TYPES)),
                PlaceKind::Market => match rng.index(2) {
                    0 => format!("{}农贸大集", grid.township),
                    _ => format!("{}集贸市场", grid.community),
                },
                PlaceKind::School => match rng.index(4) {
                    0 => format!("{}中心小学", grid.township),
                    1 => format!("{}中学", grid.township),
                    2 => format!("{}幼儿园", grid.community),
                    _ => format!("{community}小学"),
                },
                PlaceKind::Hospital => match rng.index(2) {
                    0 => format!("{}卫生院", grid.township),
                    _ => format!("{}卫生室", grid.community),
                },
                PlaceKind::Office => match rng.index(3) {
                    0 => format!("{}人民政府", grid.township),
                    _ => format!("{}村委会", grid.community),
                },
                PlaceKind::PublicSpace => format!("{}文化广场", grid.community),
            };
            self.houses += 1;
            return (name, format!("{}{group}组{}号", grid.address, self.houses));
        }

        let number = self.next_street_number(rng);
        let address = format!("{}{}{number}号", grid.address, self.road);
        let name = match kind {
            PlaceKind::Residence => {
                let slot = rng.index(self.estates.len());
                let (estate, units) = &mut self.estates[slot];
                *units += 1;
                let name = format!(
                    "{estate}{}号楼{}单元",
                    (*units - 1) / 6 + 1,
                    (*units - 1) % 6 + 1
                );
                return (name.clone(), format!("{address}{name}"));
            }
            PlaceKind::Shop => format!("{trade}{}", rng.pick(SHOP_TYPES)),
            PlaceKind::Office => match rng.index(3) {
                0 => format!("{}党群服务中心", grid.community),
                1 => format!("{trade}大厦"),
                _ => format!("{trade}商务楼"),
            },
            PlaceKind::School => match rng.index(5) {
                0 => counters
                    .middle_school(grid.core)
                    .map(|n| {
                        let area = if grid.core { CITY_NAME } else { county.name };
                        format!("{area}第{}中学", chinese_number(n))
                    })
                    .unwrap_or_else(|| format!("{community}小学")),
                1 => format!("{community}小学"),
                2 => format!("{}幼儿园", rng.pick(&self.estates).0),
                3 => format!("{trade}培训学校"),
                _ => format!("{trade}幼儿园"),
            },
            PlaceKind::Hospital => match rng.index(4) {
                0 => format!("{}卫生服务站", grid.community),
                1 => format!("{trade}口腔诊所"),
                2 => counters
                    .hospital(grid.core)
                    .map(|n| {
                        let area = if grid.core { CITY_NAME } else { county.name };
                        format!("{area}第{}人民医院", chinese_number(n))
                    })
                    .unwrap_or_else(|| format!("{trade}诊所")),
                _ => format!("{trade}诊所"),
            },
            PlaceKind::Factory => format!("辽源{trade}{}", rng.pick(FACTORY_TYPES)),
            PlaceKind::Market => match rng.index(3) {
                0 => format!("{community}农贸市场"),
                1 => format!("{}早市", rng.pick(&self.estates).0),
                _ => format!("{trade}批发市场"),
            },
            PlaceKind::PublicSpace => format!("{community}{}", rng.pick(PUBLIC_SPACES)),
            PlaceKind::Farmland => format!("{}菜地", grid.community),
        };
        (name, address)
    }
}

/// City-wide numbering of the few institutions named by number (第三中学, 第二人民医院).
#[derive(Default)]
struct Counters {
    middle_schools: [u32; 2],
    hospitals: [u32; 2],
}

impl Counters {
    fn middle_school(&mut self, core: bool) -> Option<u32> {
        let n = &mut self.middle_schools[usize::from(core)];
        (*n < 20).then(|| {
            *n += 1;
            *n
        })
    }

    fn hospital(&mut self, core: bool) -> Option<u32> {
        let n = &mut self.hospitals[usize::from(core)];
        (*n < 6).then(|| {
            *n += 1;
            *n
        })
    }
}

/// Which department systems register a place.
fn link(rng: &mut Rng, kind: PlaceKind, links: &mut Links) {
    match kind {
        PlaceKind::Farmland => {
            links.add(DepartmentKind::NaturalResources);
            // Irrigated land is on the water bureau's register of irrigation works.
            if rng.percent(30) {
                links.add(DepartmentKind::WaterResources);
            }
        }
        PlaceKind::Factory => {
            if rng.percent(80) {
                links.add(DepartmentKind::NaturalResources);
            }
            if rng.percent(40) {
                links.add(DepartmentKind::EcologyEnvironment);
            }
        }
        PlaceKind::PublicSpace => {
            links.add(DepartmentKind::UrbanManagement);
            // Squares and parks with heritage or tourist sites.
            if rng.percent(25) {
                links.add(DepartmentKind::CultureTourism);
            }
        }
        PlaceKind::Market => {
            if rng.percent(90) {
                links.add(DepartmentKind::HousingConstruction);
            }
            if rng.percent(80) {
                links.add(DepartmentKind::Commerce);
            }
        }
        PlaceKind::Residence
        | PlaceKind::Shop
        | PlaceKind::School
        | PlaceKind::Hospital
        | PlaceKind::Office => {
            if rng.percent(90) {
                links.add(DepartmentKind::HousingConstruction);
            }
            // Registered real estate (不动产登记).
            if rng.percent(60) {
                links.add(DepartmentKind::NaturalResources);
            }
        }
    }
}

pub const COLUMNS: &str =
    "id, name, kind, address, jurisdiction_code, longitude, latitude, created_at";

pub fn write(
    out: &Sender,
    seed: u64,
    grids: &[Grid],
    ranges: Ranges,
    links: &mut Links,
) -> Result<Places, Stopped> {
    let mut rng = Rng::stream(seed, "places");
    let total = ranges.all().end - ranges.all().start;
    let mut table = out.table("places", COLUMNS, total as u64)?;
    let mut kinds = Vec::with_capacity(total as usize);
    let mut names = Vec::with_capacity(total as usize);
    let mut counters = Counters::default();
    for (g, grid) in grids.iter().enumerate() {
        let mut naming = GridNames::new(&mut rng, grid);
        for (i, id) in ranges.grid(g).enumerate() {
            // Every grid's first place is a home, so its residents have somewhere to live.
            let kind = if i == 0 {
                PlaceKind::Residence
            } else if grid.village {
                rng.pick_weighted(RURAL_KINDS)
            } else {
                rng.pick_weighted(URBAN_KINDS)
            };
            let (name, address) = naming.place(&mut rng, kind, &mut counters);
            // Inside the grid, clear of its edges.
            let (x, y) = (rng.unit(), rng.unit());
            let (longitude, latitude) = grid.bounds.at(0.05 + 0.9 * x, 0.05 + 0.9 * y);
            let created_at = rng.range(ENTITIES_START, EVENTS_START - 1);
            table
                .row()
                .int(id)
                .text(&name)
                .text(kind.as_str())
                .text(&address)
                .text(&grid.code)
                .degrees(longitude)
                .degrees(latitude)
                .timestamp(created_at);
            table.end_row()?;
            links.push_entity();
            link(&mut rng, kind, links);
            kinds.push(kind);
            names.push(name);
        }
    }
    table.finish()?;
    Ok(Places {
        ranges,
        kinds,
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_stems() {
        assert_eq!(stem("向阳社区"), "向阳");
        assert_eq!(stem("王家村"), "王家");
        assert_eq!(stem("站前"), "站前");
    }
}
