//! The generator: every table's rows, in an order that satisfies the foreign keys, from
//! one seed. Runs on a blocking thread; see [`super::copy`].

use super::copy::{Sender, Stopped};
use super::jurisdictions::{self, Tree};
use super::layout::{Ranges, Sizes, allocate};
use super::links::{self, EntityFacts, EntityType, Links};
use super::organizations::{self, Organizations};
use super::persons::{self, Persons};
use super::places::{self, Places};
use super::rng::Rng;
use super::{Scale, departments, events, staff, things, workflow};

/// What the loader needs besides the rows.
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    pub grids: u64,
    pub max_entity_id: i64,
    pub max_event_id: i64,
    pub max_whistle_id: i64,
    pub max_summons_id: i64,
    pub max_timeline_id: i64,
}

/// Relative numbers of residents (and places) per grid: a district's urban grid is
/// denser than a county town's, which is denser than a village's.
fn densities(rng: &mut Rng, tree: &Tree) -> Vec<u64> {
    tree.grids
        .iter()
        .map(|grid| {
            let base = match (grid.village, grid.core) {
                (false, true) => 12,
                (false, false) => 10,
                (true, _) => 8,
            };
            // ±20% so that grids of one kind are not all alike.
            base * (80 + rng.below(41))
        })
        .collect()
}

struct Facts<'a> {
    tree: &'a Tree,
    places: &'a Places,
    persons: &'a Persons,
    things: &'a Ranges,
    organizations: &'a Organizations,
}

impl EntityFacts for Facts<'_> {
    fn entity_type(&self, id: i64) -> EntityType {
        if self.places.ranges.all().contains(&id) {
            EntityType::Place
        } else if self.persons.ranges.all().contains(&id) {
            EntityType::Person
        } else if self.things.all().contains(&id) {
            EntityType::Thing
        } else {
            EntityType::Organization
        }
    }

    fn county(&self, id: i64) -> usize {
        let grid = match self.entity_type(id) {
            EntityType::Place => self.places.ranges.grid_of(id),
            EntityType::Person => self.persons.ranges.grid_of(id),
            EntityType::Thing => self.things.grid_of(id),
            EntityType::Organization => self.organizations.ranges.grid_of(id),
        };
        self.tree.grids.get(grid).map_or(0, |g| g.county)
    }

    fn credit_code(&self, id: i64) -> Option<&str> {
        self.organizations
            .ranges
            .all()
            .contains(&id)
            .then(|| self.organizations.credit_code(id))
    }
}

pub fn generate(out: &Sender, scale: Scale, seed: u64) -> Result<Generated, Stopped> {
    let tree = jurisdictions::build();
    jurisdictions::write(out, &tree)?;
    departments::write(out)?;
    staff::write(out, seed, &tree)?;

    let sizes = Sizes::of(scale);
    let mut rng = Rng::stream(seed, "layout");
    let density = densities(&mut rng, &tree);
    let place_counts = allocate(sizes.places, &density, 1);
    let person_counts = allocate(sizes.persons, &density, 1);
    // Things and organizations are where the places are.
    let thing_counts = allocate(sizes.things, &place_counts, 0);
    let organization_counts = allocate(sizes.organizations, &place_counts, 0);

    // One id space: places, then persons, things and organizations.
    let place_ranges = Ranges::new(1, &place_counts);
    let person_ranges = Ranges::new(place_ranges.all().end, &person_counts);
    let thing_ranges = Ranges::new(person_ranges.all().end, &thing_counts);
    let organization_ranges = Ranges::new(thing_ranges.all().end, &organization_counts);
    let max_entity_id = organization_ranges.all().end - 1;

    let mut links = Links::with_capacity(max_entity_id as usize);
    let places = places::write(out, seed, &tree.grids, place_ranges, &mut links)?;
    let persons = persons::write(out, seed, &tree.grids, &places, person_ranges, &mut links)?;
    things::write(out, seed, &tree.grids, &places, &thing_ranges, &mut links)?;
    let organizations = organizations::write(
        out,
        seed,
        &tree,
        &places,
        &persons,
        organization_ranges,
        &mut links,
    )?;
    organizations::write_members(out, &organizations)?;
    let facts = Facts {
        tree: &tree,
        places: &places,
        persons: &persons,
        things: &thing_ranges,
        organizations: &organizations,
    };
    links::write(out, &links, &facts)?;
    drop(links);

    let events::Written {
        parties,
        links: event_links,
        lives,
    } = events::write(
        out,
        seed,
        &tree,
        &places,
        &persons,
        &organizations,
        sizes.events,
    )?;
    events::write_parties(out, &parties)?;
    drop(parties);
    events::write_links(out, &event_links)?;
    drop(event_links);
    // The events' workflow history, replayed from their lives.
    let workflow = workflow::write(out, &tree, &lives)?;

    Ok(Generated {
        grids: tree.grids.len() as u64,
        max_entity_id,
        max_event_id: sizes.events as i64,
        max_whistle_id: workflow.whistles,
        max_summons_id: workflow.summonses,
        max_timeline_id: workflow.timeline,
    })
}
