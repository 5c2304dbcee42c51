//! The 96 departments: the same 24 functional departments in each of the four counties.

use connectors::ConnectorKind;

use super::copy::{Sender, Stopped};
use super::jurisdictions::{COUNTIES, County};
use schema::enums::DepartmentKind;

/// Every county's departments: kind, the abbreviation in department codes
/// (`<county code>-<abbr>`, e.g. 220422-GA) and the short name.
pub const DEPARTMENT_TYPES: [(DepartmentKind, &str, &str); 24] = [
    (DepartmentKind::PublicSecurity, "GA", "公安局"),
    (DepartmentKind::CivilAffairs, "MZ", "民政局"),
    (DepartmentKind::Justice, "SF", "司法局"),
    (DepartmentKind::Petitions, "XF", "信访局"),
    (DepartmentKind::HumanResourcesSocialSecurity, "RS", "人社局"),
    (DepartmentKind::NaturalResources, "ZR", "自然资源局"),
    (DepartmentKind::HousingConstruction, "ZJ", "住建局"),
    (DepartmentKind::EcologyEnvironment, "HJ", "生态环境分局"),
    (DepartmentKind::Transport, "JT", "交通运输局"),
    (DepartmentKind::WaterResources, "SL", "水利局"),
    (DepartmentKind::AgricultureRural, "NY", "农业农村局"),
    (DepartmentKind::Commerce, "SW", "商务局"),
    (DepartmentKind::CultureTourism, "WL", "文旅局"),
    (DepartmentKind::HealthCommission, "WJ", "卫健局"),
    (DepartmentKind::VeteransAffairs, "TY", "退役军人事务局"),
    (DepartmentKind::EmergencyManagement, "YJ", "应急管理局"),
    (DepartmentKind::MarketRegulation, "SJ", "市场监管局"),
    (DepartmentKind::HealthcareSecurity, "YB", "医保局"),
    (DepartmentKind::UrbanManagement, "CG", "城管执法局"),
    (DepartmentKind::Education, "JY", "教育局"),
    (DepartmentKind::Court, "FY", "人民法院"),
    (DepartmentKind::Procuratorate, "JC", "人民检察院"),
    (DepartmentKind::FireRescue, "XJ", "消防救援大队"),
    (DepartmentKind::Taxation, "SS", "税务局"),
];

/// Index of a kind in [`DEPARTMENT_TYPES`] (the order of [`DepartmentKind::ALL`]).
pub fn type_index(kind: DepartmentKind) -> usize {
    DEPARTMENT_TYPES
        .iter()
        .position(|(k, _, _)| *k == kind)
        .unwrap_or(0)
}

pub fn code(county: &County, type_index: usize) -> String {
    format!("{}-{}", county.code, DEPARTMENT_TYPES[type_index].1)
}

/// The full name. Environment protection is a branch of the city bureau (辽源市生态环境局
/// 东辽分局) and taxation a bureau of the State Taxation Administration; the rest are the
/// county's own bureaus.
pub fn name(county: &County, kind: DepartmentKind, short_name: &str) -> String {
    match kind {
        DepartmentKind::EcologyEnvironment => format!("辽源市生态环境局{}分局", county.stem),
        DepartmentKind::Taxation => format!("国家税务总局{}税务局", county.name),
        _ => format!("{}{short_name}", county.name),
    }
}

/// The land, housing, tax and court systems are databases read directly; the others
/// offer REST APIs.
pub fn connector(kind: DepartmentKind) -> ConnectorKind {
    match kind {
        DepartmentKind::NaturalResources
        | DepartmentKind::HousingConstruction
        | DepartmentKind::Taxation
        | DepartmentKind::Court => ConnectorKind::Sql,
        _ => ConnectorKind::Rest,
    }
}

pub const COLUMNS: &str = "code, name, short_name, kind, county_code, connector";

pub fn write(out: &Sender) -> Result<u64, Stopped> {
    let total = (COUNTIES.len() * DEPARTMENT_TYPES.len()) as u64;
    let mut table = out.table("departments", COLUMNS, total)?;
    for county in &COUNTIES {
        for (index, &(kind, _, short_name)) in DEPARTMENT_TYPES.iter().enumerate() {
            table
                .row()
                .text(&code(county, index))
                .text(&name(county, kind, short_name))
                .text(short_name)
                .text(kind.as_str())
                .text(county.code)
                .text(connector(kind).as_str());
            table.end_row()?;
        }
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn there_are_96_departments_one_per_kind_and_county() {
        let kinds: Vec<DepartmentKind> = DEPARTMENT_TYPES.iter().map(|t| t.0).collect();
        assert_eq!(kinds, DepartmentKind::ALL);
        let abbreviations: HashSet<&str> = DEPARTMENT_TYPES.iter().map(|t| t.1).collect();
        assert_eq!(abbreviations.len(), 24);
        let codes: HashSet<String> = COUNTIES
            .iter()
            .flat_map(|county| (0..24).map(move |i| code(county, i)))
            .collect();
        assert_eq!(codes.len(), 96);
        assert!(codes.contains("220422-GA"));
        assert_eq!(
            name(&COUNTIES[3], DepartmentKind::PublicSecurity, "公安局"),
            "东辽县公安局"
        );
        assert_eq!(connector(DepartmentKind::Court), ConnectorKind::Sql);
    }
}
