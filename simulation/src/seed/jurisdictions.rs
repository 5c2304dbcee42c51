//! The administrative tree of Liaoyuan: the city, its two districts and two counties,
//! the 47 real townships, then synthetic communities/villages and exactly 1,246 grids.
//!
//! Each county is a fixed rectangle of the city's map, cut into its townships, each
//! township into its communities and each community into its grids ([`boundaries`]).
//!
//! The tree is drawn from a fixed seed, not the caller's: codes and names of the map stay
//! the same for every seed (so documentation, tests and bookmarks can name them), and only
//! the population living on it varies.

use super::boundaries::{Rect, tile};
use super::copy::{Sender, Stopped};
use super::layout::allocate;
use super::rng::Rng;
use super::vocabulary::{COMMUNITY_NAMES, VILLAGE_NAMES};
use schema::enums::{JurisdictionKind, JurisdictionLevel};

pub const CITY_CODE: &str = "220400";
pub const CITY_NAME: &str = "辽源市";
/// The city's map, which its counties tile.
pub const CITY_BOUNDS: Rect = Rect {
    west: 124.70,
    south: 42.45,
    east: 125.85,
    north: 43.15,
};
/// The number of grids (网格) the city is divided into.
pub const GRID_TOTAL: u64 = 1_246;

const TREE_SEED: u64 = 0x4C49_414F_5955_414E;

pub struct County {
    pub code: &'static str,
    pub name: &'static str,
    /// The name without 区/县, as in 辽源市生态环境局东辽分局.
    pub stem: &'static str,
    pub kind: JurisdictionKind,
    /// Its part of the city's map: the four rectangles tile the city's.
    pub bounds: Rect,
}

pub const COUNTIES: [County; 4] = [
    County {
        code: "220402",
        name: "龙山区",
        stem: "龙山",
        kind: JurisdictionKind::District,
        bounds: Rect {
            west: 125.08,
            south: 42.45,
            east: 125.22,
            north: 42.91,
        },
    },
    County {
        code: "220403",
        name: "西安区",
        stem: "西安",
        kind: JurisdictionKind::District,
        bounds: Rect {
            west: 125.08,
            south: 42.91,
            east: 125.22,
            north: 43.15,
        },
    },
    County {
        code: "220421",
        name: "东丰县",
        stem: "东丰",
        kind: JurisdictionKind::County,
        bounds: Rect {
            west: 125.22,
            south: 42.45,
            east: 125.85,
            north: 43.15,
        },
    },
    County {
        code: "220422",
        name: "东辽县",
        stem: "东辽",
        kind: JurisdictionKind::County,
        bounds: Rect {
            west: 124.70,
            south: 42.45,
            east: 125.08,
            north: 43.15,
        },
    },
];

/// A township of the embedded list.
#[derive(Debug, Clone)]
pub struct Township {
    pub county: usize,
    pub name: String,
    pub kind: JurisdictionKind,
}

/// The 47 townships of `data/liaoyuan-townships.csv`, in file order. Lines that do not
/// parse are skipped (a test holds the count at 47).
pub fn townships() -> Vec<Township> {
    include_str!("../../data/liaoyuan-townships.csv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.trim().split(',');
            let county_code = fields.next()?;
            let _county_name = fields.next()?;
            let name = fields.next()?;
            let kind = JurisdictionKind::parse(fields.next()?)?;
            let county = COUNTIES.iter().position(|c| c.code == county_code)?;
            Some(Township {
                county,
                name: name.to_owned(),
                kind,
            })
        })
        .collect()
}

/// A row of the jurisdictions table.
#[derive(Debug, Clone)]
pub struct Node {
    pub code: String,
    pub name: String,
    pub level: JurisdictionLevel,
    pub kind: JurisdictionKind,
    pub parent: Option<String>,
    pub depth: i16,
    pub bounds: Rect,
}

/// A grid, with what the entity generators need to know about where it is.
#[derive(Debug, Clone)]
pub struct Grid {
    pub code: String,
    /// Index into [`COUNTIES`].
    pub county: usize,
    pub township: String,
    /// 向阳社区 or 王家村.
    pub community: String,
    /// A village's grid (countryside) rather than an urban community's.
    pub village: bool,
    /// In a district's urban street: the densest part of the city.
    pub core: bool,
    /// Its number within the community (第N网格).
    pub number: u32,
    /// 吉林省辽源市<county><township><community>
    pub address: String,
    /// Its part of its community's map; the positions of its places lie inside.
    pub bounds: Rect,
}

impl Grid {
    pub fn county(&self) -> &'static County {
        &COUNTIES[self.county]
    }
}

pub struct Tree {
    /// Every jurisdiction, parents before children (code order).
    pub nodes: Vec<Node>,
    /// The grids, in code order (so a county's grids are consecutive).
    pub grids: Vec<Grid>,
}

impl Tree {
    /// The grids of county `county`: a range of indexes into [`Tree::grids`].
    pub fn county_grids(&self, county: usize) -> std::ops::Range<usize> {
        let start = self.grids.partition_point(|g| g.county < county);
        let end = self.grids.partition_point(|g| g.county <= county);
        start..end
    }
}

struct Community {
    code: String,
    name: String,
    township: usize,
    village: bool,
    core: bool,
}

fn jitter(rng: &mut Rng, spread: f64) -> f64 {
    (rng.unit() * 2.0 - 1.0) * spread
}

pub fn build() -> Tree {
    let mut rng = Rng::stream(TREE_SEED, "jurisdictions");
    let townships = townships();

    // Townships are numbered within their county in file order.
    let mut township_codes = Vec::with_capacity(townships.len());
    let mut numbers = [0u32; COUNTIES.len()];
    for township in &townships {
        numbers[township.county] += 1;
        let code = format!(
            "{}{:03}",
            COUNTIES[township.county].code, numbers[township.county]
        );
        township_codes.push(code);
    }

    let mut communities = Vec::new();
    for (t, township) in townships.iter().enumerate() {
        let county = &COUNTIES[township.county];
        let urban = township.kind == JurisdictionKind::Street;
        // Draws of an earlier layout by centres, kept so that every later draw (and so
        // every name and count of the tree) stays the same.
        let (spread_lon, spread_lat) = if urban { (0.025, 0.02) } else { (0.22, 0.15) };
        let _ = (jitter(&mut rng, spread_lon), jitter(&mut rng, spread_lat));
        let count = rng.range(6, 12) as usize;
        let names = if urban {
            COMMUNITY_NAMES
        } else {
            VILLAGE_NAMES
        };
        let mut order: Vec<usize> = (0..names.len()).collect();
        rng.shuffle(&mut order);
        for (i, &name) in order.iter().take(count).enumerate() {
            let suffix = if urban { "社区" } else { "村" };
            let spread = if urban { 0.008 } else { 0.03 };
            communities.push(Community {
                code: format!("{}{:03}", township_codes[t], i + 1),
                name: format!("{}{suffix}", names[name]),
                township: t,
                village: !urban,
                core: urban && county.kind == JurisdictionKind::District,
            });
            let _ = (jitter(&mut rng, spread), jitter(&mut rng, spread));
        }
    }

    // Urban communities are split into many more grids than villages.
    let weights: Vec<u64> = communities
        .iter()
        .map(|c| match (c.village, c.core) {
            (false, true) => 50 + rng.below(30),
            (false, false) => 35 + rng.below(20),
            (true, _) => 12 + rng.below(10),
        })
        .collect();
    let grid_counts = allocate(GRID_TOTAL, &weights, 1);

    // Streets are a town's size or smaller; a township's communities and a community's
    // grids share it equally.
    let township_weights: Vec<f64> = townships
        .iter()
        .map(|t| {
            if t.kind == JurisdictionKind::Street {
                1.0
            } else {
                4.0
            }
        })
        .collect();
    let mut township_bounds = Vec::with_capacity(townships.len());
    for (c, county) in COUNTIES.iter().enumerate() {
        let members: Vec<f64> = (0..townships.len())
            .filter(|&t| townships[t].county == c)
            .map(|t| township_weights[t])
            .collect();
        township_bounds.extend(tile(county.bounds, &members));
    }
    let mut community_bounds = Vec::with_capacity(communities.len());
    for (t, bounds) in township_bounds.iter().enumerate() {
        let members = communities.iter().filter(|c| c.township == t).count();
        community_bounds.extend(tile(*bounds, &vec![1.0; members]));
    }

    let mut nodes = vec![Node {
        code: CITY_CODE.to_owned(),
        name: CITY_NAME.to_owned(),
        level: JurisdictionLevel::City,
        kind: JurisdictionKind::City,
        parent: None,
        depth: 0,
        bounds: CITY_BOUNDS,
    }];
    let mut grids = Vec::with_capacity(GRID_TOTAL as usize);
    let mut next_community = 0;
    for (t, township) in townships.iter().enumerate() {
        let county = &COUNTIES[township.county];
        if t == 0 || townships[t - 1].county != township.county {
            nodes.push(Node {
                code: county.code.to_owned(),
                name: county.name.to_owned(),
                level: JurisdictionLevel::County,
                kind: county.kind,
                parent: Some(CITY_CODE.to_owned()),
                depth: 1,
                bounds: county.bounds,
            });
        }
        nodes.push(Node {
            code: township_codes[t].clone(),
            name: township.name.clone(),
            level: JurisdictionLevel::Township,
            kind: township.kind,
            parent: Some(county.code.to_owned()),
            depth: 2,
            bounds: township_bounds[t],
        });
        while next_community < communities.len() && communities[next_community].township == t {
            let community = &communities[next_community];
            nodes.push(Node {
                code: community.code.clone(),
                name: community.name.clone(),
                level: JurisdictionLevel::Community,
                kind: if community.village {
                    JurisdictionKind::Village
                } else {
                    JurisdictionKind::UrbanCommunity
                },
                parent: Some(township_codes[t].clone()),
                depth: 3,
                bounds: community_bounds[next_community],
            });
            let count = grid_counts[next_community] as usize;
            let spread = if community.village { 0.008 } else { 0.002 };
            let grid_bounds = tile(community_bounds[next_community], &vec![1.0; count]);
            for (number, bounds) in (1..=count as u32).zip(grid_bounds) {
                let _ = (jitter(&mut rng, spread), jitter(&mut rng, spread));
                let grid = Grid {
                    code: format!("{}{number:03}", community.code),
                    county: township.county,
                    township: township.name.clone(),
                    community: community.name.clone(),
                    village: community.village,
                    core: community.core,
                    number,
                    address: format!(
                        "吉林省{CITY_NAME}{}{}{}",
                        county.name, township.name, community.name
                    ),
                    bounds,
                };
                nodes.push(Node {
                    code: grid.code.clone(),
                    name: format!("{}第{number}网格", community.name),
                    level: JurisdictionLevel::Grid,
                    kind: JurisdictionKind::Grid,
                    parent: Some(community.code.clone()),
                    depth: 4,
                    bounds,
                });
                grids.push(grid);
            }
            next_community += 1;
        }
    }
    Tree { nodes, grids }
}

pub const COLUMNS: &str = "code, name, level, kind, parent_code, prefix, depth, boundary";

pub fn write(out: &Sender, tree: &Tree) -> Result<u64, Stopped> {
    let mut table = out.table("jurisdictions", COLUMNS, tree.nodes.len() as u64)?;
    for node in &tree.nodes {
        table
            .row()
            .text(&node.code)
            .text(&node.name)
            .text(node.level.as_str())
            .text(node.kind.as_str())
            .opt_text(node.parent.as_deref())
            .text(connectors::subtree_prefix(&node.code))
            .int(i64::from(node.depth))
            .text(&node.bounds.ewkt());
        table.end_row()?;
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_47_townships_are_read() {
        let townships = townships();
        assert_eq!(townships.len(), 47);
        let per_county: Vec<usize> = (0..4)
            .map(|c| townships.iter().filter(|t| t.county == c).count())
            .collect();
        assert_eq!(per_county, vec![10, 7, 17, 13]);
    }

    #[test]
    fn the_tree_has_exactly_1246_grids() {
        let tree = build();
        assert_eq!(tree.grids.len(), 1_246);
        let level_count =
            |level: JurisdictionLevel| tree.nodes.iter().filter(|n| n.level == level).count();
        assert_eq!(level_count(JurisdictionLevel::City), 1);
        assert_eq!(level_count(JurisdictionLevel::County), 4);
        assert_eq!(level_count(JurisdictionLevel::Township), 47);
        assert_eq!(level_count(JurisdictionLevel::Grid), 1_246);
        let communities = level_count(JurisdictionLevel::Community);
        assert!((47 * 6..=47 * 12).contains(&communities));

        // Codes are unique, in order, and every parent comes first and prefixes its child.
        let mut seen = HashSet::new();
        for pair in tree.nodes.windows(2) {
            assert!(pair[0].code < pair[1].code);
        }
        for node in &tree.nodes {
            if let Some(parent) = &node.parent {
                assert!(seen.contains(parent.as_str()));
                assert!(node.code.starts_with(connectors::subtree_prefix(parent)));
            }
            seen.insert(node.code.as_str());
        }
        assert_eq!(tree.nodes[1].code, "220402");
        assert_eq!(tree.nodes[2].code, "220402001");
        assert_eq!(tree.nodes[2].name, "南康街道");
    }

    #[test]
    fn every_level_tiles_its_parent() {
        let tree = build();
        let by_code: std::collections::HashMap<&str, &Node> =
            tree.nodes.iter().map(|n| (n.code.as_str(), n)).collect();
        let area = |r: &Rect| (r.east - r.west) * (r.north - r.south);
        let mut children_area: std::collections::HashMap<&str, f64> = Default::default();
        for node in &tree.nodes {
            let Some(parent) = node.parent.as_deref() else {
                continue;
            };
            let outer = by_code[parent].bounds;
            let inner = node.bounds;
            assert!(
                inner.west >= outer.west
                    && inner.east <= outer.east
                    && inner.south >= outer.south
                    && inner.north <= outer.north,
                "{} lies outside {parent}",
                node.code
            );
            *children_area.entry(parent).or_default() += area(&inner);
        }
        for (parent, covered) in children_area {
            let whole = area(&by_code[parent].bounds);
            assert!((covered - whole).abs() < 1e-9 * whole.max(1.0), "{parent}");
        }
        for grid in &tree.grids {
            let (x, y) = grid.bounds.at(0.5, 0.5);
            assert!((124.0..126.0).contains(&x) && (42.0..44.0).contains(&y));
        }
    }

    #[test]
    fn community_names_are_unique_within_a_township() {
        let tree = build();
        let mut names = HashSet::new();
        for node in &tree.nodes {
            if node.level == JurisdictionLevel::Community {
                assert!(names.insert((node.parent.clone(), node.name.clone())));
            }
        }
        assert_eq!(tree.county_grids(0).start, 0);
        assert_eq!(tree.county_grids(3).end, 1_246);
    }
}
