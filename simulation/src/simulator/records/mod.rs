//! What each type of department system keeps, in its own shape: field names in its own
//! abbreviations (pinyin initials, as Chinese government systems name them), its own
//! codes and date formats, and how its API wraps answers. Department configs map these
//! shapes onto the schema; the simulator serves them.
//!
//! Every record is derived from what the entity index says about its subject (names, ID
//! numbers, addresses, credit codes, dates) plus choices of the record's [`Dice`], so the
//! same seed gives the same records everywhere. Records are current as of [`AS_OF`].

mod event;
mod organization;
mod person;
mod place;
mod thing;

use chrono::{Datelike, Months, NaiveDate};

use super::dice::Dice;
use super::index::Facts;
use connectors::Element;

/// One value as a department stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Native {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    Null,
}

/// A record: column names in order; a dotted name (`hjdz.xxdz`) nests in JSON answers
/// and becomes `hjdz_xxdz` in SQL tables.
pub type NativeRecord = Vec<(&'static str, Native)>;

/// How a department type's API wraps its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `{"code": 0, "msg": "成功", "data": [...]}` (a batch) or `"data": {...}` (one record).
    CodeData,
    /// `{"result": {"total": n, "records": [...]}}` or `{"result": {...}}`.
    ResultRecords,
    /// The list or the record itself.
    Bare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// strftime format of dates in JSON answers.
    pub date_format: &'static str,
    pub envelope: Envelope,
}

const fn styled(date_format: &'static str, envelope: Envelope) -> Style {
    Style {
        date_format,
        envelope,
    }
}

/// How the department type with abbreviation `abbr` (GA, MZ, ...) renders answers. The
/// database-backed types (ZR, ZJ, FY, SS) are read as table rows, where dates are plain
/// SQL dates; their style only matters if they are ever served as JSON.
pub fn style(abbr: &str) -> Style {
    use Envelope::{Bare, CodeData, ResultRecords};
    match abbr {
        "GA" => styled("%Y%m%d", CodeData),
        "MZ" => styled("%Y-%m-%d", CodeData),
        "RS" => styled("%Y%m%d", ResultRecords),
        "WJ" => styled("%Y/%m/%d", ResultRecords),
        "TY" => styled("%Y年%m月%d日", Bare),
        "YB" => styled("%Y-%m-%d", ResultRecords),
        "SL" => styled("%Y年%m月%d日", CodeData),
        "SW" => styled("%Y/%m/%d", Bare),
        "CG" => styled("%Y%m%d", CodeData),
        "WL" => styled("%Y-%m-%d", Bare),
        "SJ" => styled("%Y-%m-%d", ResultRecords),
        "YJ" => styled("%Y/%m/%d", CodeData),
        "JT" => styled("%Y%m%d", ResultRecords),
        "XJ" => styled("%Y-%m-%d", Bare),
        "HJ" => styled("%Y年%m月%d日", ResultRecords),
        "NY" => styled("%Y/%m/%d", CodeData),
        "JY" => styled("%Y-%m-%d", CodeData),
        "XF" => styled("%Y-%m-%d", ResultRecords),
        "SF" => styled("%Y年%m月%d日", CodeData),
        "JC" => styled("%Y%m%d", Bare),
        _ => styled("%Y-%m-%d", Bare),
    }
}

/// The table a `sql` department of type `abbr` keeps `element` records in.
pub fn table(abbr: &str, element: Element) -> String {
    let known = match (abbr, element) {
        // 不动产登记信息: the real-estate register of the natural resources bureau.
        ("ZR", Element::Place) => "bdc_djxx",
        // 房屋基本信息: the housing bureau's building register.
        ("ZJ", Element::Place) => "fw_jbxx",
        // 案件信息: the court's case management system.
        ("FY", Element::Event) => "ajxx",
        // 纳税人信息: the tax administration's taxpayer register.
        ("SS", Element::Organization) => "nsrxx",
        _ => "",
    };
    if known.is_empty() {
        format!("{}_{}", abbr.to_ascii_lowercase(), element.as_str())
    } else {
        known.to_owned()
    }
}

/// The record a department of type `abbr` keeps on `facts`' subject, or `None` when that
/// type keeps nothing on this element.
pub fn native(abbr: &str, element: Element, facts: &Facts) -> Option<NativeRecord> {
    let mut dice = Dice::for_record(&facts.department_code, &facts.source_id);
    let dice = &mut dice;
    let record = match (abbr, element) {
        ("GA", Element::Person) => person::household_registration(facts, dice),
        ("MZ", Element::Person) => person::social_assistance(facts, dice),
        ("RS", Element::Person) => person::social_insurance(facts, dice),
        ("WJ", Element::Person) => person::health_record(facts, dice),
        ("TY", Element::Person) => person::veteran_status(facts, dice),
        ("YB", Element::Person) => person::medical_insurance(facts, dice),
        ("ZJ", Element::Place) => place::building(facts, dice),
        ("ZR", Element::Place) => place::real_estate(facts, dice),
        ("SL", Element::Place) => place::irrigation_works(facts, dice),
        ("SW", Element::Place) => place::commercial_outlet(facts, dice),
        ("CG", Element::Place) => place::urban_management(facts, dice),
        ("WL", Element::Place) => place::cultural_site(facts, dice),
        ("SJ", Element::Thing) => thing::special_equipment(facts, dice),
        ("YJ", Element::Thing) => thing::hazard(facts, dice),
        ("JT", Element::Thing) => thing::vehicle(facts, dice),
        ("XJ", Element::Thing) => thing::fire_facility(facts, dice),
        ("SJ", Element::Organization) => organization::business_registration(facts, dice),
        ("SS", Element::Organization) => organization::tax_registration(facts, dice),
        ("HJ", Element::Organization) => organization::pollution_permit(facts, dice),
        ("NY", Element::Organization) => organization::agricultural_entity(facts, dice),
        ("JY", Element::Organization) => organization::school_license(facts, dice),
        ("XF", Element::Event) => event::petition(facts, dice),
        ("SF", Element::Event) => event::mediation(facts, dice),
        ("FY", Element::Event) => event::court_case(facts, dice),
        ("JC", Element::Event) => event::procuratorial_case(facts, dice),
        _ => return None,
    };
    Some(record)
}

/// The day the department systems' records are current to: the end of the period in
/// which the index's entities were registered.
const AS_OF: NaiveDate = day(2024, 10, 31);

const fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

fn text(value: impl Into<String>) -> Native {
    Native::Text(value.into())
}

fn opt_text(value: Option<&str>) -> Native {
    value.map_or(Native::Null, text)
}

/// A sum of money or a measure, to two decimals as departments store them.
fn amount(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// `months` calendar months after `date` (before it when negative), or `date` itself at
/// the edge of the calendar.
fn months_after(date: NaiveDate, months: i64) -> NaiveDate {
    let span = Months::new(u32::try_from(months.unsigned_abs()).unwrap_or(u32::MAX));
    let moved = if months >= 0 {
        date.checked_add_months(span)
    } else {
        date.checked_sub_months(span)
    };
    moved.unwrap_or(date)
}

fn years_after(date: NaiveDate, years: i64) -> NaiveDate {
    months_after(date, years * 12)
}

/// Whole years from `born` to [`AS_OF`].
fn age(born: NaiveDate) -> i64 {
    let mut years = i64::from(AS_OF.year() - born.year());
    if (AS_OF.month(), AS_OF.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years.max(0)
}

/// A day in the `months` months before [`AS_OF`], but not before `not_before` when that
/// leaves room.
fn recent(dice: &mut Dice, months: i64, not_before: NaiveDate) -> NaiveDate {
    let from = months_after(AS_OF, -months).max(not_before.min(AS_OF));
    dice.date(from, AS_OF)
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "赵", "孙", "杨", "陈", "于", "徐", "马", "高", "郭", "董", "姜", "崔",
    "金", "韩", "曲", "宋", "付", "吴", "周", "吕", "冯", "邹", "孟", "侯", "鲁", "范",
];

const GIVEN_NAMES: &[&str] = &[
    "建国", "秀英", "玉兰", "志强", "海燕", "国庆", "红梅", "晓东", "德明", "春生", "桂芝", "立新",
    "文博", "雪梅", "宏伟", "淑华", "振华", "凤霞", "伟", "静", "磊", "敏", "勇", "军", "丹", "鹏",
    "丽娟", "长海", "洪涛", "亚楠", "思远", "佳琪", "树林", "玉凤",
];

/// The name of someone a department records as an official, caretaker or contact.
fn person_name(dice: &mut Dice) -> String {
    format!("{}{}", dice.pick(SURNAMES), dice.pick(GIVEN_NAMES))
}

/// A mobile number of one of the three carriers.
fn mobile(dice: &mut Dice) -> String {
    let prefix = *dice.pick(&[
        "130", "135", "138", "139", "150", "158", "186", "189", "199",
    ]);
    format!("{prefix}{}", dice.digits(8))
}

const TRADE_NAMES: &[&str] = &[
    "福源", "鑫达", "宏远", "金丰", "瑞祥", "恒通", "华晟", "东盛", "永利", "天和", "兴隆", "昌盛",
    "广源", "益民", "丰泽", "吉顺", "鹿乡", "龙鼎",
];

fn trade_name(dice: &mut Dice) -> &'static str {
    dice.pick::<&str>(TRADE_NAMES)
}

fn county_name(county: &str) -> &'static str {
    match county {
        "220402" => "龙山区",
        "220403" => "西安区",
        "220421" => "东丰县",
        "220422" => "东辽县",
        _ => "辽源市",
    }
}

/// The county's name without 区/县, as in 东辽检 or 辽源市生态环境局东辽分局.
pub(crate) fn county_stem(county: &str) -> &'static str {
    match county {
        "220402" => "龙山",
        "220403" => "西安",
        "220421" => "东丰",
        "220422" => "东辽",
        _ => "辽源",
    }
}

/// The township (街道, 镇 or 乡) an address lies in, read from the address itself
/// (吉林省辽源市东辽县白泉镇白泉村3组 → 白泉镇), or the county when it does not say.
fn township(facts: &Facts) -> String {
    let county = county_name(&facts.county);
    let rest = facts
        .address
        .as_deref()
        .and_then(|address| address.split_once(county))
        .map_or("", |(_, rest)| rest);
    let end = match rest.find("街道") {
        Some(at) => Some(at + "街道".len()),
        None => ["镇", "乡"]
            .iter()
            .filter_map(|suffix| rest.find(suffix).map(|at| at + suffix.len()))
            .min(),
    };
    match end {
        Some(end) if end > 3 => rest[..end].to_owned(),
        _ => county.to_owned(),
    }
}

/// The township's government: a 街道办事处 in town, a 人民政府 in the countryside.
fn township_office(facts: &Facts) -> String {
    let township = township(facts);
    if township.ends_with("街道") {
        format!("{township}办事处")
    } else {
        format!("{township}人民政府")
    }
}

/// Whether the subject is in a village (rather than a town's streets).
fn rural(facts: &Facts) -> bool {
    facts
        .address
        .as_deref()
        .is_some_and(|address| address.contains('村') || address.contains('组'))
}

/// A hospital or clinic of the county: the county hospitals, or the subject's own
/// township health centre.
fn hospital(facts: &Facts, dice: &mut Dice) -> String {
    let county = county_name(&facts.county);
    let township = township(facts);
    match dice.range(0, 9) {
        0..=2 => format!("{county}人民医院"),
        3 => format!("{county}中医院"),
        4 => "辽源市中心医院".to_owned(),
        _ if township.ends_with("街道") => format!("{township}社区卫生服务中心"),
        _ if township != county => format!("{township}卫生院"),
        _ => format!("{county}人民医院"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(address: Option<&str>) -> Facts {
        Facts {
            department_code: "220422-MZ".to_owned(),
            source_id: "JZ22042200000001".to_owned(),
            entity_id: 1,
            county: "220422".to_owned(),
            jurisdiction_code: "220422100001001".to_owned(),
            name: "王秀英".to_owned(),
            kind: "PERSON".to_owned(),
            gender: Some("FEMALE".to_owned()),
            birth_date: Some(day(1956, 2, 29)),
            id_number: None,
            phone: None,
            address: address.map(str::to_owned),
            identifier: None,
            credit_code: None,
            representative: None,
            date: day(2020, 5, 1),
            status: None,
            tier: None,
            party: None,
        }
    }

    #[test]
    fn townships_are_read_from_addresses() {
        let village = facts(Some("吉林省辽源市东辽县白泉镇白泉村3组"));
        assert_eq!(township(&village), "白泉镇");
        assert!(rural(&village));
        let street = facts(Some("吉林省辽源市东辽县福镇街道福民社区民主路12号"));
        assert_eq!(township(&street), "福镇街道");
        assert_eq!(township_office(&street), "福镇街道办事处");
        assert_eq!(township(&facts(None)), "东辽县");
    }

    #[test]
    fn dates_move_by_calendar_months() {
        assert_eq!(years_after(day(2024, 2, 29), 1), day(2025, 2, 28));
        assert_eq!(months_after(day(2024, 3, 31), -1), day(2024, 2, 29));
        assert_eq!(age(day(1956, 2, 29)), 68);
        assert_eq!(age(day(2024, 11, 1)), 0);
    }

    #[test]
    fn every_department_type_with_records_has_its_own_style_and_tables() {
        let facts = facts(Some("吉林省辽源市东辽县白泉镇白泉村3组"));
        for (abbr, element) in [
            ("MZ", Element::Person),
            ("ZR", Element::Place),
            ("SJ", Element::Thing),
            ("SJ", Element::Organization),
            ("FY", Element::Event),
        ] {
            let record = native(abbr, element, &facts);
            assert!(record.is_some_and(|r| r.iter().any(|(_, v)| *v == text(&facts.source_id))));
        }
        assert_eq!(native("GA", Element::Thing, &facts), None);
        assert_eq!(table("ZJ", Element::Place), "fw_jbxx");
        assert_eq!(table("XX", Element::Event), "xx_event");
        assert_eq!(style("TY").envelope, Envelope::Bare);
    }
}
