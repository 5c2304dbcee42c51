//! The people who act: a 法官进网格 "1+4" team for every grid — a judge of the county
//! court, the grid head, a mediator, a residents' representative and an auxiliary police
//! officer — in Liaoyuan's numbers: 65 judges, 1,246 grid heads, 387 mediators, 584
//! representatives and 592 auxiliary police. Judges serve the grids of their county,
//! the others those of their township, each shared in turn.

use schema::enums::StaffRole;

use super::copy::{Sender, Stopped};
use super::jurisdictions::{COUNTIES, Tree};
use super::layout::allocate;
use super::persons;
use super::rng::Rng;
use super::vocabulary::{MOBILE_PREFIXES, SURNAMES};

/// The city's numbers of each shared role.
pub const JUDGES: u64 = 65;
pub const MEDIATORS: u64 = 387;
pub const RESIDENT_REPS: u64 = 584;
pub const AUXILIARY_POLICE: u64 = 592;

pub const COLUMNS: &str = "id, name, role, unit, department_code, jurisdiction_code, phone";
pub const MEMBER_COLUMNS: &str = "grid_code, staff_id";

struct Member {
    name: String,
    role: StaffRole,
    unit: String,
    department: Option<String>,
    jurisdiction: String,
    phone: String,
}

fn person(rng: &mut Rng) -> (String, String) {
    let male = rng.percent(55);
    let surname = rng.pick_weighted(SURNAMES);
    let name = persons::name(rng, surname, male);
    let phone = format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000));
    (name, phone)
}

/// Writes `staff` and `team_members`; returns how many staff.
pub fn write(out: &Sender, seed: u64, tree: &Tree) -> Result<u64, Stopped> {
    let mut rng = Rng::stream(seed, "staff");
    let name_of = |code: &str| {
        tree.nodes
            .iter()
            .find(|node| node.code == code)
            .map_or_else(|| code.to_owned(), |node| node.name.clone())
    };
    // Townships in code order, with their grids (indexes into tree.grids).
    let mut townships: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, grid) in tree.grids.iter().enumerate() {
        let township = grid.code[..9].to_owned();
        match townships.last_mut() {
            Some((code, grids)) if *code == township => grids.push(index),
            _ => townships.push((township, vec![index])),
        }
    }
    let mut members: Vec<Member> = Vec::new();
    // Each grid's team, as indexes into `members`.
    let mut teams: Vec<Vec<usize>> = vec![Vec::new(); tree.grids.len()];

    let county_grids: Vec<u64> = (0..COUNTIES.len())
        .map(|county| tree.county_grids(county).len() as u64)
        .collect();
    for (county, judges) in allocate(JUDGES, &county_grids, 1).into_iter().enumerate() {
        let code = COUNTIES[county].code;
        let first = members.len();
        for _ in 0..judges {
            let (name, phone) = person(&mut rng);
            members.push(Member {
                name,
                role: StaffRole::Judge,
                unit: format!("{}人民法院", COUNTIES[county].name),
                department: Some(format!("{code}-FY")),
                jurisdiction: code.to_owned(),
                phone,
            });
        }
        for (turn, grid) in tree.county_grids(county).enumerate() {
            if judges > 0 {
                teams[grid].push(first + turn % judges as usize);
            }
        }
    }
    for (index, grid) in tree.grids.iter().enumerate() {
        let (name, phone) = person(&mut rng);
        teams[index].push(members.len());
        members.push(Member {
            name,
            role: StaffRole::GridHead,
            unit: format!("{}第{}网格", grid.community, grid.number),
            department: None,
            jurisdiction: grid.code.clone(),
            phone,
        });
    }
    let township_grids: Vec<u64> = townships.iter().map(|(_, g)| g.len() as u64).collect();
    for (role, total, unit, department) in [
        (StaffRole::Mediator, MEDIATORS, "人民调解委员会", None),
        (StaffRole::ResidentRep, RESIDENT_REPS, "居民代表", None),
        (
            StaffRole::AuxiliaryPolice,
            AUXILIARY_POLICE,
            "派出所",
            Some("GA"),
        ),
    ] {
        for ((township, grids), count) in townships.iter().zip(allocate(total, &township_grids, 1))
        {
            let first = members.len();
            let township_name = name_of(township);
            for _ in 0..count {
                let (name, phone) = person(&mut rng);
                members.push(Member {
                    name,
                    role,
                    unit: format!("{township_name}{unit}"),
                    department: department.map(|abbr| format!("{}-{abbr}", &township[..6])),
                    jurisdiction: township.clone(),
                    phone,
                });
            }
            for (turn, grid) in grids.iter().enumerate() {
                if count > 0 {
                    teams[*grid].push(first + turn % count as usize);
                }
            }
        }
    }

    let mut table = out.table("staff", COLUMNS, members.len() as u64)?;
    for (index, member) in members.iter().enumerate() {
        table
            .row()
            .int(index as i64 + 1)
            .text(&member.name)
            .text(member.role.as_str())
            .text(&member.unit)
            .opt_text(member.department.as_deref())
            .text(&member.jurisdiction)
            .text(&member.phone);
        table.end_row()?;
    }
    let written = table.finish()?;
    let total: usize = teams.iter().map(Vec::len).sum();
    let mut table = out.table("team_members", MEMBER_COLUMNS, total as u64)?;
    for (grid, team) in tree.grids.iter().zip(&teams) {
        for member in team {
            table.row().text(&grid.code).int(*member as i64 + 1);
            table.end_row()?;
        }
    }
    table.finish()?;
    Ok(written)
}
