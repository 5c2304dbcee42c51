//! persons: residents, in households sharing a home, with valid and unique ID numbers.

use super::codes::id_number;
use super::copy::{Sender, Stopped};
use super::jurisdictions::{COUNTIES, Grid};
use super::layout::Ranges;
use super::links::Links;
use super::places::Places;
use super::rng::Rng;
use super::time::{ENTITIES_START, EVENTS_START, civil_from_days, days_from_civil};
use super::vocabulary::{FEMALE_GIVEN, MALE_GIVEN, MOBILE_PREFIXES, SURNAMES};
use schema::enums::{DepartmentKind, Gender, PlaceKind};

/// What later tables need to know of each person.
pub struct Persons {
    pub ranges: Ranges,
    birth_years: Vec<u16>,
}

impl Persons {
    fn slot(&self, id: i64) -> usize {
        (id - self.ranges.all().start) as usize
    }

    pub fn birth_year(&self, id: i64) -> u16 {
        self.birth_years[self.slot(id)]
    }

    /// A person of the ids `range`, preferably an adult (18 or over when events begin),
    /// other than those in `exclude`; `None` if the range holds no one else.
    pub fn pick_adult(
        &self,
        rng: &mut Rng,
        range: std::ops::Range<i64>,
        exclude: &[i64],
    ) -> Option<i64> {
        if range.is_empty() {
            return None;
        }
        let mut fallback = None;
        for _ in 0..16 {
            let id = rng.range(range.start, range.end - 1);
            if exclude.contains(&id) {
                continue;
            }
            if self.birth_year(id) <= 2006 {
                return Some(id);
            }
            fallback.get_or_insert(id);
        }
        fallback.or_else(|| range.clone().find(|id| !exclude.contains(id)))
    }
}

/// Birth years by period, roughly the age pyramid of a North-Eastern city: many people
/// born 1955–1990, fewer children.
const BIRTH_PERIODS: &[((i64, i64), u32)] = &[
    ((1940, 1949), 6),
    ((1950, 1959), 12),
    ((1960, 1969), 18),
    ((1970, 1979), 18),
    ((1980, 1989), 16),
    ((1990, 1999), 13),
    ((2000, 2009), 10),
    ((2010, 2012), 3),
];

const HOUSEHOLD_SIZES: &[(u32, u32)] = &[(1, 18), (2, 30), (3, 28), (4, 15), (5, 9)];

const FIRST_BIRTH_DAY: i64 = days_from_civil(1940, 1, 1);
/// A year of slack after the last birth date, for dates moved on by a full sequence.
const BIRTH_DAYS: usize = (days_from_civil(2014, 1, 1) - FIRST_BIRTH_DAY) as usize;

/// The next free ID-number sequence per county, birth date and sex: the 3-digit sequence
/// is odd for men and even for women, 500 of each per day, so numbers are unique by
/// construction rather than by luck.
struct Sequences {
    used: Vec<u16>,
}

impl Sequences {
    fn new() -> Self {
        Self {
            used: vec![0; COUNTIES.len() * BIRTH_DAYS * 2],
        }
    }

    /// The birth date actually used (moved to the next day if the day's sequences are
    /// all taken) and the sequence number.
    fn next(&mut self, county: usize, birth_day: i64, male: bool) -> (i64, u32) {
        let mut offset = (birth_day - FIRST_BIRTH_DAY).clamp(0, BIRTH_DAYS as i64 - 1) as usize;
        loop {
            let slot = (county * BIRTH_DAYS + offset) * 2 + usize::from(male);
            let used = self.used[slot];
            let capacity: u32 = if male { 500 } else { 499 };
            if u32::from(used) < capacity {
                self.used[slot] = used + 1;
                // Handed out in a scrambled order (263 is coprime with both capacities),
                // from a different start each day: real sequences are not all 001.
                let start = (slot as u32).wrapping_mul(2_654_435_761) % capacity;
                let k = (u32::from(used) * 263 + start) % capacity;
                let sequence = if male { 2 * k + 1 } else { 2 * k + 2 };
                return (FIRST_BIRTH_DAY + offset as i64, sequence);
            }
            offset = (offset + 1) % BIRTH_DAYS;
        }
    }
}

pub(super) fn name(rng: &mut Rng, surname: &str, male: bool) -> String {
    let given = if male { MALE_GIVEN } else { FEMALE_GIVEN };
    let mut name = surname.to_owned();
    name.push_str(rng.pick::<&str>(given));
    if rng.percent(70) {
        name.push_str(rng.pick::<&str>(given));
    }
    name
}

fn phone(rng: &mut Rng, birth_year: i64) -> Option<String> {
    let has_phone = if birth_year >= 2010 {
        rng.percent(30)
    } else {
        rng.percent(89)
    };
    has_phone.then(|| format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000)))
}

/// Which department systems know a person.
fn link(rng: &mut Rng, male: bool, birth_year: i64, links: &mut Links) {
    links.add(DepartmentKind::PublicSecurity);
    if birth_year <= 2008 && rng.percent(63) {
        links.add(DepartmentKind::HumanResourcesSocialSecurity);
    }
    if rng.percent(80) {
        links.add(DepartmentKind::HealthCommission);
    }
    if rng.percent(70) {
        links.add(DepartmentKind::HealthcareSecurity);
    }
    if rng.percent(5) {
        links.add(DepartmentKind::CivilAffairs);
    }
    let veteran = match birth_year {
        ..1960 => rng.percent(35),
        1960..1996 => rng.percent(5),
        _ => false,
    };
    if male && veteran {
        links.add(DepartmentKind::VeteransAffairs);
    }
}

pub const COLUMNS: &str = "id, name, gender, birth_date, id_number, phone, residence_place_id, \
                           jurisdiction_code, created_at";

pub fn write(
    out: &Sender,
    seed: u64,
    grids: &[Grid],
    places: &Places,
    ranges: Ranges,
    links: &mut Links,
) -> Result<Persons, Stopped> {
    let mut rng = Rng::stream(seed, "persons");
    let total = (ranges.all().end - ranges.all().start) as u64;
    let mut table = out.table("persons", COLUMNS, total)?;
    let mut sequences = Sequences::new();
    let mut birth_years = Vec::with_capacity(total as usize);
    for (g, grid) in grids.iter().enumerate() {
        let mut household_left = 0;
        let mut home = None;
        let mut family_name = "";
        for id in ranges.grid(g) {
            if household_left == 0 {
                household_left = rng.pick_weighted(HOUSEHOLD_SIZES);
                home = places.pick(&mut rng, g, &[PlaceKind::Residence]);
                family_name = rng.pick_weighted(SURNAMES);
            } else if rng.percent(45) {
                // Spouses and in-laws keep their own surnames.
                family_name = rng.pick_weighted(SURNAMES);
            }
            household_left -= 1;

            let male = rng.percent(50);
            let (first, last) = rng.pick_weighted(BIRTH_PERIODS);
            let year = rng.range(first, last);
            let year_start = days_from_civil(year, 1, 1);
            let year_days = days_from_civil(year + 1, 1, 1) - year_start;
            let (birth_day, sequence) =
                sequences.next(grid.county, year_start + rng.range(0, year_days - 1), male);
            let (year, month, day) = civil_from_days(birth_day);
            let gender = if male { Gender::Male } else { Gender::Female };
            let created_at = rng.range(ENTITIES_START, EVENTS_START - 1);
            table
                .row()
                .int(id)
                .text(&name(&mut rng, family_name, male))
                .text(gender.as_str())
                .date(birth_day)
                .text(&id_number(grid.county().code, year, month, day, sequence))
                .opt_text(phone(&mut rng, year).as_deref())
                .opt_int(home)
                .text(&grid.code)
                .timestamp(created_at);
            table.end_row()?;
            links.push_entity();
            link(&mut rng, male, year, links);
            birth_years.push(year as u16);
        }
    }
    table.finish()?;
    Ok(Persons {
        ranges,
        birth_years,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn id_numbers_stay_unique_when_a_day_is_full() {
        let mut sequences = Sequences::new();
        let day = days_from_civil(1980, 6, 1);
        let mut numbers = HashSet::new();
        for i in 0..2_000 {
            let male = i % 3 != 0;
            let (birth_day, sequence) = sequences.next(3, day, male);
            assert_eq!(sequence % 2 == 1, male);
            assert!((1..=999).contains(&sequence));
            let (y, m, d) = civil_from_days(birth_day);
            let number = id_number("220422", y, m, d, sequence);
            assert_eq!(number.len(), 18);
            assert_eq!(schema::identifiers::id_number(&number), Ok(number.clone()));
            assert!(numbers.insert(number));
        }
    }
}
