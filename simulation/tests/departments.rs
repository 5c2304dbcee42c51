//! The shipped department configs against the schema's catalog and the simulator's
//! record shapes: every config loads, every federated field is filled in every county,
//! and every department's records, as its API or database renders them, read cleanly
//! through its mapping with every mapped field filled.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;
use connectors::config::{Departments, Lookup, Vars};
use connectors::{ConnectorKind, Element};
use simulation::simulator::{Facts, Native, records, render};

const COUNTIES: [&str; 4] = ["220402", "220403", "220421", "220422"];

fn departments() -> Departments {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors/departments");
    match Departments::load_dir(&dir, Some(&schema::catalog()), &Vars::empty()) {
        Ok(departments) => departments,
        Err(errors) => panic!("{errors}"),
    }
}

/// A subject of each element, as the index would describe it.
fn facts(department: &str, element: Element, serial: usize) -> Facts {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let county = department[..6].to_owned();
    let kind = match element {
        Element::Person => "PERSON",
        Element::Place => {
            ["RESIDENCE", "FARMLAND", "PUBLIC_SPACE", "MARKET", "FACTORY"][serial % 5]
        }
        Element::Thing => ["ELEVATOR", "GAS_TANK", "VEHICLE", "FIRE_HYDRANT", "BOILER"][serial % 5],
        Element::Organization => {
            ["COMPANY", "COOPERATIVE", "SCHOOL", "INDIVIDUAL_BUSINESS"][serial % 4]
        }
        Element::Event => [
            "NEIGHBOR_DISPUTE",
            "LABOR_DISPUTE",
            "ENVIRONMENT",
            "LAND_DISPUTE",
        ][serial % 4],
    };
    Facts {
        department_code: department.to_owned(),
        source_id: format!("XX{county}{serial:08}"),
        entity_id: serial as i64 + 1,
        jurisdiction_code: format!("{county}100001001"),
        county,
        name: match element {
            Element::Person => "王秀英".to_owned(),
            Element::Place => "东辽县白泉镇菜市场".to_owned(),
            Element::Thing => "1号电梯".to_owned(),
            Element::Organization => "辽源市鑫达建材有限公司".to_owned(),
            Element::Event => "楼上漏水引发邻里纠纷".to_owned(),
        },
        kind: kind.to_owned(),
        gender: Some(
            if serial.is_multiple_of(2) {
                "FEMALE"
            } else {
                "MALE"
            }
            .to_owned(),
        ),
        birth_date: Some(date(1968, 3, 14)),
        id_number: Some("220422196803141228".to_owned()),
        phone: Some("13904371234".to_owned()),
        address: Some("吉林省辽源市东辽县白泉镇白泉村3组".to_owned()),
        identifier: Some("吉D·35682".to_owned()),
        credit_code: Some("91220422MA0Y3K5X2B".to_owned()),
        representative: Some("李建国".to_owned()),
        date: date(2025, 6, 18),
        status: Some("CLOSED".to_owned()),
        tier: Some("LITIGATION".to_owned()),
        party: Some("王秀英".to_owned()),
    }
}

#[test]
fn the_shipped_configs_cover_every_federated_field_in_every_county() {
    let departments = departments();
    let federated = departments
        .iter()
        .filter(|d| matches!(d.kind, ConnectorKind::Rest | ConnectorKind::Sql))
        .count();
    assert_eq!(federated, 96, "departments of kind rest or sql");
    let catalog = schema::catalog();
    for federated in catalog.types() {
        for county in COUNTIES {
            let providers: Vec<&str> = departments
                .iter()
                .filter(|d| d.county == county)
                .filter(|d| {
                    d.provides
                        .iter()
                        .any(|p| std::ptr::eq(p.federated, federated))
                })
                .map(|d| d.code.as_str())
                .collect();
            assert!(
                !providers.is_empty(),
                "nothing fills {} in county {county}",
                federated.path()
            );
        }
    }
    let abbreviations: BTreeSet<&str> = departments
        .iter()
        .filter(|d| !d.provides.is_empty())
        .map(|d| d.abbreviation())
        .collect();
    assert_eq!(
        abbreviations.len(),
        24,
        "every department type fills a field"
    );
}

#[test]
fn every_department_record_reads_cleanly_through_its_mapping() {
    for department in departments().iter() {
        let abbr = department.abbreviation();
        for (&element, lookup) in &department.lookups {
            for serial in 0..10 {
                let facts = facts(&department.code, element, serial);
                let Some(native) = records::native(abbr, element, &facts) else {
                    panic!(
                        "{} keeps no {element} records in the simulator",
                        department.code
                    );
                };
                let raw = match department.kind {
                    ConnectorKind::Sql => render::sql_row(&native),
                    _ => render::json_record(&native, records::style(abbr)),
                };
                let (id, normalised) = match department.read_record(element, &raw) {
                    Ok(read) => read,
                    Err(error) => panic!("{} {element} record {raw}: {error}", department.code),
                };
                assert_eq!(
                    id, facts.source_id,
                    "{}: the record's id is its source id",
                    department.code
                );
                if let Lookup::Sql { query, .. } = lookup {
                    let table = records::table(abbr, element);
                    assert!(
                        query.contains(&table),
                        "{}: the query reads {table}",
                        department.code
                    );
                }
                for provision in department.provisions(element) {
                    for mapping in &provision.fields {
                        let path = mapping.path.to_string();
                        let column = render::column(&path);
                        let stored = native
                            .iter()
                            .find(|(name, _)| *name == path || render::column(name) == column)
                            .map(|(_, value)| value);
                        let value = &normalised[provision.federated.field][mapping.spec.name];
                        match stored {
                            None => panic!(
                                "{}: the mapping reads `{path}`, which its records do not have",
                                department.code
                            ),
                            Some(Native::Null) => {}
                            Some(_) => assert!(
                                !value.is_null(),
                                "{}: `{}` came out empty from `{path}`",
                                department.code,
                                mapping.spec.name
                            ),
                        }
                    }
                }
            }
        }
    }
}
