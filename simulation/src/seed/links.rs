//! entity_links: which department systems hold a record on each entity.
//!
//! The entity generators decide the links (they know the entity) and record them as a
//! bit set per entity; this table is written afterwards, once every entity exists, with
//! source ids in each department's own style.

use super::copy::{Sender, Stopped};
use super::departments::{DEPARTMENT_TYPES, code, type_index};
use super::jurisdictions::COUNTIES;
use schema::enums::DepartmentKind;

/// One bit per department type (24 of them) for each entity, indexed by `id - 1`.
#[derive(Debug, Default)]
pub struct Links {
    masks: Vec<u32>,
}

impl Links {
    pub fn with_capacity(entities: usize) -> Self {
        Self {
            masks: Vec::with_capacity(entities),
        }
    }

    /// Starts the next entity (ids are consecutive from 1).
    pub fn push_entity(&mut self) {
        self.masks.push(0);
    }

    /// Links the last pushed entity to its county's department of `kind`.
    pub fn add(&mut self, kind: DepartmentKind) {
        if let Some(mask) = self.masks.last_mut() {
            *mask |= 1 << type_index(kind);
        }
    }

    pub fn total(&self) -> u64 {
        self.masks.iter().map(|m| u64::from(m.count_ones())).sum()
    }
}

/// What kind of entity an id is, for the style of its source ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityType {
    Place,
    Person,
    Thing,
    Organization,
}

/// What `write` needs to know about each entity besides its links.
pub trait EntityFacts {
    fn entity_type(&self, id: i64) -> EntityType;
    fn county(&self, id: i64) -> usize;
    /// The organization's 统一社会信用代码 (which registries use as their id).
    fn credit_code(&self, id: i64) -> Option<&str>;
}

/// The letters before a department's own serial number, by department and entity type:
/// 户籍 (HJ), 社保 (SB), 健康档案 (JK), 不动产单元 (BDC), 特种设备 (TZ), ...
fn tag(kind: DepartmentKind, entity: EntityType) -> &'static str {
    use DepartmentKind as D;
    use EntityType as E;
    match (kind, entity) {
        (D::PublicSecurity, E::Person) => "HJ",
        (D::PublicSecurity, _) => "SP",
        (D::CivilAffairs, _) => "JZ",
        (D::HumanResourcesSocialSecurity, E::Person) => "SB",
        (D::HumanResourcesSocialSecurity, _) => "DW",
        (D::NaturalResources, _) => "BDC",
        (D::HousingConstruction, _) => "FW",
        (D::EcologyEnvironment, _) => "PW",
        (D::Transport, _) => "CL",
        (D::WaterResources, _) => "GC",
        (D::CultureTourism, _) => "WB",
        (D::AgricultureRural, _) => "HZ",
        (D::Commerce, _) => "SC",
        (D::HealthCommission, E::Person) => "JK",
        (D::HealthCommission, _) => "YL",
        (D::VeteransAffairs, _) => "TY",
        (D::EmergencyManagement, _) => "WH",
        (D::MarketRegulation, _) => "TZ",
        (D::HealthcareSecurity, _) => "YB",
        (D::UrbanManagement, _) => "CG",
        (D::Education, _) => "JY",
        (D::FireRescue, _) => "XF",
        _ => "ZZ",
    }
}

/// Registries of organizations key them by their credit code.
fn keyed_by_credit_code(kind: DepartmentKind) -> bool {
    matches!(
        kind,
        DepartmentKind::MarketRegulation | DepartmentKind::Taxation | DepartmentKind::CivilAffairs
    )
}

pub const COLUMNS: &str = "entity_id, department_code, source_id";

pub fn write(out: &Sender, links: &Links, facts: &dyn EntityFacts) -> Result<u64, Stopped> {
    let mut table = out.table("entity_links", COLUMNS, links.total())?;
    // A serial per department; every source id not taken from a credit code is a tag,
    // the county code and this serial, so (department, source id) is unique by construction.
    let mut serials = vec![0u64; COUNTIES.len() * DEPARTMENT_TYPES.len()];
    let codes: Vec<Vec<String>> = COUNTIES
        .iter()
        .map(|county| {
            (0..DEPARTMENT_TYPES.len())
                .map(|i| code(county, i))
                .collect()
        })
        .collect();
    for (index, &mask) in links.masks.iter().enumerate() {
        if mask == 0 {
            continue;
        }
        let id = index as i64 + 1;
        let county = facts.county(id);
        let entity = facts.entity_type(id);
        for (type_index, &(kind, _, _)) in DEPARTMENT_TYPES.iter().enumerate() {
            if mask & (1 << type_index) == 0 {
                continue;
            }
            let credit_code = match entity {
                EntityType::Organization if keyed_by_credit_code(kind) => facts.credit_code(id),
                _ => None,
            };
            let source_id = match credit_code {
                Some(credit_code) => credit_code.to_owned(),
                None => {
                    let serial = &mut serials[county * DEPARTMENT_TYPES.len() + type_index];
                    *serial += 1;
                    format!(
                        "{}{}{:08}",
                        tag(kind, entity),
                        COUNTIES[county].code,
                        serial
                    )
                }
            };
            table
                .row()
                .int(id)
                .text(&codes[county][type_index])
                .text(&source_id);
            table.end_row()?;
        }
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_count_their_bits() {
        let mut links = Links::with_capacity(2);
        links.push_entity();
        links.add(DepartmentKind::PublicSecurity);
        links.add(DepartmentKind::Taxation);
        links.add(DepartmentKind::Taxation);
        links.push_entity();
        assert_eq!(links.total(), 2);
        assert_eq!(links.masks, vec![1 | 1 << 23, 0]);
    }
}
