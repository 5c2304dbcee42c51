//! things: elevators, gas cylinders, vehicles, hydrants, cameras, boilers and chemical
//! tanks, each at a place of its grid, with the registration number its register uses.

use std::collections::HashMap;

use super::codes::plate;
use super::copy::{Sender, Stopped};
use super::jurisdictions::Grid;
use super::layout::Ranges;
use super::links::Links;
use super::places::Places;
use super::rng::Rng;
use super::time::{ENTITIES_START, EVENTS_START, beijing_fields};
use super::vocabulary::{FARM_VEHICLE_TYPES, VEHICLE_TYPES};
use schema::enums::{DepartmentKind, PlaceKind, ThingKind};

/// What is found at a place of each kind (village homes have no lifts but tractors).
fn kinds_at(place: Option<PlaceKind>, village: bool) -> &'static [(ThingKind, u32)] {
    use ThingKind as T;
    match place {
        Some(PlaceKind::Residence) if village => &[
            (T::GasTank, 35),
            (T::Vehicle, 45),
            (T::Camera, 10),
            (T::FireHydrant, 5),
            (T::Boiler, 5),
        ],
        Some(PlaceKind::Residence) => &[
            (T::Elevator, 35),
            (T::GasTank, 10),
            (T::Vehicle, 30),
            (T::FireHydrant, 15),
            (T::Camera, 10),
        ],
        Some(PlaceKind::Shop) => &[
            (T::GasTank, 45),
            (T::Camera, 30),
            (T::Vehicle, 15),
            (T::FireHydrant, 10),
        ],
        Some(PlaceKind::School) => &[
            (T::Elevator, 20),
            (T::Boiler, 25),
            (T::Camera, 35),
            (T::FireHydrant, 20),
        ],
        Some(PlaceKind::Hospital) => &[
            (T::Elevator, 35),
            (T::Boiler, 25),
            (T::Camera, 20),
            (T::FireHydrant, 10),
            (T::GasTank, 10),
        ],
        Some(PlaceKind::Factory) => &[
            (T::Boiler, 25),
            (T::ChemicalTank, 30),
            (T::Vehicle, 25),
            (T::FireHydrant, 10),
            (T::Camera, 10),
        ],
        Some(PlaceKind::Market) => &[(T::GasTank, 35), (T::Camera, 35), (T::FireHydrant, 30)],
        Some(PlaceKind::Office) => &[
            (T::Elevator, 40),
            (T::Camera, 25),
            (T::Vehicle, 20),
            (T::Boiler, 15),
        ],
        Some(PlaceKind::PublicSpace) => &[(T::FireHydrant, 50), (T::Camera, 50)],
        Some(PlaceKind::Farmland) => &[(T::Vehicle, 100)],
        None => &[(T::Vehicle, 50), (T::Camera, 30), (T::FireHydrant, 20)],
    }
}

/// Which register holds a thing.
fn register(kind: ThingKind) -> DepartmentKind {
    match kind {
        ThingKind::Elevator | ThingKind::Boiler => DepartmentKind::MarketRegulation,
        ThingKind::GasTank | ThingKind::ChemicalTank => DepartmentKind::EmergencyManagement,
        ThingKind::Vehicle => DepartmentKind::Transport,
        ThingKind::FireHydrant => DepartmentKind::FireRescue,
        ThingKind::Camera => DepartmentKind::PublicSecurity,
    }
}

pub const COLUMNS: &str = "id, name, kind, identifier, place_id, jurisdiction_code, created_at";

pub fn write(
    out: &Sender,
    seed: u64,
    grids: &[Grid],
    places: &Places,
    ranges: &Ranges,
    links: &mut Links,
) -> Result<u64, Stopped> {
    let mut rng = Rng::stream(seed, "things");
    let total = (ranges.all().end - ranges.all().start) as u64;
    let mut table = out.table("things", COLUMNS, total)?;
    // Serials per kind make identifiers unique; numbers per place and kind make names
    // like 1号电梯, 2号电梯 of one building.
    let mut serials = [0u64; 7];
    let mut numbers: HashMap<(i64, usize), u32> = HashMap::new();
    for (g, grid) in grids.iter().enumerate() {
        for id in ranges.grid(g) {
            // The place first, then something found at such a place.
            let place = places.any(&mut rng, g);
            let place_kind = place.map(|p| places.kind(p));
            let kind = rng.pick_weighted(kinds_at(place_kind, grid.village));
            let kind_index = ThingKind::ALL.iter().position(|&k| k == kind).unwrap_or(0);
            serials[kind_index] += 1;
            let serial = serials[kind_index];
            let at = place.map_or(grid.community.as_str(), |p| places.name(p));
            let number = numbers
                .entry((place.unwrap_or(-(g as i64)), kind_index))
                .or_insert(0);
            *number += 1;
            let number = *number;
            let created_at = rng.range(ENTITIES_START, EVENTS_START - 1);
            let year = beijing_fields(created_at).0;
            let county = grid.county().code;
            let (name, identifier) = match kind {
                ThingKind::Elevator => (
                    format!("{at}{number}号电梯"),
                    // 特种设备代码: type 3110 (traction passenger lift), region, year, serial.
                    format!("3110{county}{year}{serial:06}"),
                ),
                ThingKind::GasTank => (
                    format!("{at}液化气钢瓶{number}号"),
                    format!("QP{county}{serial:08}"),
                ),
                ThingKind::Vehicle => {
                    let farm = grid.village || place_kind == Some(PlaceKind::Farmland);
                    let types = if farm {
                        FARM_VEHICLE_TYPES
                    } else {
                        VEHICLE_TYPES
                    };
                    let plate = plate(serial - 1);
                    (format!("{plate}号{}", rng.pick(types)), plate)
                }
                ThingKind::FireHydrant => (
                    format!("{at}{number}号消火栓"),
                    format!("XHS{county}{serial:06}"),
                ),
                ThingKind::Camera => (
                    format!("{at}{number}号监控探头"),
                    // GB/T 28181 device id: centre code, industry, type 132 (camera), serial.
                    format!("{county}0000132{serial:07}"),
                ),
                ThingKind::Boiler => (
                    format!("{at}{number}号锅炉"),
                    format!("2110{county}{year}{serial:06}"),
                ),
                ThingKind::ChemicalTank => (
                    format!("{at}{number}号危化品储罐"),
                    format!("CG{county}{serial:06}"),
                ),
            };
            table
                .row()
                .int(id)
                .text(&name)
                .text(kind.as_str())
                .text(&identifier)
                .opt_int(place)
                .text(&grid.code)
                .timestamp(created_at);
            table.end_row()?;
            links.push_entity();
            links.add(register(kind));
        }
    }
    table.finish()
}
