//! Case files on events: petitions (信访), people's mediation (司法), court cases (法院)
//! and public-interest cases of the procuratorate (检察院).

use chrono::{Datelike, Duration, NaiveDate};

use super::{
    Dice, Facts, Native, NativeRecord, county_name, county_stem, opt_text, person_name, text,
    township, township_office,
};

/// Whether the event is over, as the index says.
fn finished(facts: &Facts) -> bool {
    matches!(
        facts.status.as_deref(),
        Some("RESOLVED" | "CLOSED" | "REJECTED")
    )
}

fn days_after(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(Duration::days(days))
        .unwrap_or(date)
}

/// The unit a petition is passed to, by what it is about.
fn handling_unit(facts: &Facts) -> String {
    let county = county_name(&facts.county);
    match facts.kind.as_str() {
        "LABOR_DISPUTE" => format!("{county}人社局"),
        "LAND_DISPUTE" => format!("{county}自然资源局"),
        "ENVIRONMENT" => format!("辽源市生态环境局{}分局", county_stem(&facts.county)),
        "SOCIAL_ASSISTANCE" => format!("{county}民政局"),
        "PROPERTY_MANAGEMENT" => format!("{county}住建局"),
        "CITY_APPEARANCE" => format!("{county}城管执法局"),
        "CONSUMER_RIGHTS" => format!("{county}市场监管局"),
        "SAFETY_HAZARD" => format!("{county}应急管理局"),
        "PUBLIC_ORDER" | "TRAFFIC" => format!("{county}公安局"),
        _ => township_office(facts),
    }
}

/// 信访件: the petitions bureau's files. 信访形式 1 来信, 2 来访, 3 网上信访; 办理状态 1
/// 受理, 2 办理中, 3 办结; 满意度 1 满意, 2 基本满意, 3 不满意 once answered; 重复信访
/// 1/0.
pub(super) fn petition(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let form = match dice.range(0, 99) {
        0..=34 => "1",
        35..=74 => "2",
        _ => "3",
    };
    let state = match facts.status.as_deref() {
        Some("REPORTED" | "ACCEPTED") | None => "1",
        _ if finished(facts) => "3",
        _ => "2",
    };
    let satisfaction = (state == "3").then(|| match dice.range(0, 99) {
        0..=69 => "1",
        70..=89 => "2",
        _ => "3",
    });
    vec![
        ("xfjbh", text(facts.source_id.clone())),
        ("xfxs", text(form)),
        ("djrq", Native::Date(facts.date)),
        ("xfsx.bt", text(facts.name.clone())),
        ("xfsx.fsd", opt_text(facts.address.as_deref())),
        ("xfr.xm", opt_text(facts.party.as_deref())),
        ("cbdw", text(handling_unit(facts))),
        ("blzt", text(state)),
        ("cfxf", Native::Int(i64::from(dice.percent(15)))),
        ("myd", opt_text(satisfaction)),
    ]
}

/// 人民调解案件: the justice bureau's mediation cases. 调解结果 1 调解成功, 2 调解不成功,
/// 3 调解中; 达成协议 Y / N.
pub(super) fn mediation(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let accepted = days_after(facts.date, dice.range(0, 3));
    let outcome = match facts.status.as_deref() {
        Some("REJECTED") => "2",
        _ if finished(facts) => {
            if dice.percent(85) {
                "1"
            } else {
                "2"
            }
        }
        _ => "3",
    };
    let signed = outcome == "1" && dice.percent(85);
    let closed = (outcome != "3").then(|| days_after(accepted, dice.range(1, 30)));
    let case_number = format!(
        "（{}）{}调字第{:03}号",
        accepted.year(),
        county_stem(&facts.county),
        dice.range(1, 999)
    );
    let dispute = match facts.kind.as_str() {
        "NEIGHBOR_DISPUTE" => "邻里纠纷",
        "FAMILY_DISPUTE" => "婚姻家庭纠纷",
        "LABOR_DISPUTE" => "劳动争议纠纷",
        "PROPERTY_MANAGEMENT" => "物业纠纷",
        "LAND_DISPUTE" => "土地承包纠纷",
        "TRAFFIC" => "道路交通事故纠纷",
        "CONSUMER_RIGHTS" => "消费纠纷",
        _ => "其他纠纷",
    };
    vec![
        ("tjbh", text(facts.source_id.clone())),
        ("ah", text(case_number)),
        ("jflx", text(dispute)),
        ("tjwyh", text(format!("{}人民调解委员会", township(facts)))),
        ("tjy", text(person_name(dice))),
        ("dsr.sqr", opt_text(facts.party.as_deref())),
        ("slrq", Native::Date(accepted)),
        ("tjjg", text(outcome)),
        ("dcxy", text(if signed { "Y" } else { "N" })),
        ("jarq", closed.map_or(Native::Null, Native::Date)),
    ]
}

/// 案件信息 (table `ajxx`): the court's case files. 适用程序 1 简易程序, 2 普通程序, 3 小额
/// 诉讼程序; 案件状态 1 审理中, 2 已结案; 结案方式 1 判决, 2 调解, 3 撤诉, 4 驳回.
pub(super) fn court_case(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let cause = match facts.kind.as_str() {
        "NEIGHBOR_DISPUTE" => "相邻关系纠纷",
        "FAMILY_DISPUTE" => *dice.pick(&["离婚纠纷", "抚养纠纷", "赡养纠纷"]),
        "LABOR_DISPUTE" => *dice.pick(&["劳动争议", "追索劳动报酬纠纷"]),
        "PROPERTY_MANAGEMENT" => "物业服务合同纠纷",
        "LAND_DISPUTE" => "土地承包经营权纠纷",
        "ENVIRONMENT" => "环境污染责任纠纷",
        "CONSUMER_RIGHTS" => *dice.pick(&["买卖合同纠纷", "产品责任纠纷"]),
        "TRAFFIC" => "机动车交通事故责任纠纷",
        "SAFETY_HAZARD" => "财产损害赔偿纠纷",
        _ => "侵权责任纠纷",
    };
    let procedure = match dice.range(0, 99) {
        0..=59 => "1",
        60..=84 => "2",
        _ => "3",
    };
    let filed = days_after(facts.date, dice.range(3, 30));
    let closed = finished(facts);
    let closed_on = closed.then(|| days_after(filed, dice.range(20, 150)));
    let disposition = closed.then(|| match dice.range(0, 99) {
        0..=34 => "1",
        35..=69 => "2",
        70..=94 => "3",
        _ => "4",
    });
    let court = facts.county.get(2..).unwrap_or("0400");
    let case_number = format!(
        "（{}）吉{court}民初{}号",
        filed.year(),
        dice.range(1, 4_000)
    );
    vec![
        ("ajbs", text(facts.source_id.clone())),
        ("ah", text(case_number)),
        ("ay", text(cause)),
        ("cx", text(procedure)),
        ("larq", Native::Date(filed)),
        ("cbfg", text(person_name(dice))),
        ("yg", opt_text(facts.party.as_deref())),
        (
            "bdje",
            Native::Float(dice.range(2_000, 3_000_000) as f64 / 10.0),
        ),
        ("ajzt", text(if closed { "2" } else { "1" })),
        ("jarq", closed_on.map_or(Native::Null, Native::Date)),
        ("jafs", opt_text(disposition)),
    ]
}

/// 公益诉讼与检察监督案件: the procuratorate's cases. 案件类别 MG 民事公益诉讼, XG 行政公益
/// 诉讼, XJ 行政检察; 检察措施 1 诉前检察建议, 2 提起公益诉讼, 3 终结审查.
pub(super) fn procuratorial_case(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let (kind, short, section) = match dice.range(0, 99) {
        0..=69 => ("XG", "行公", "第五检察部"),
        70..=89 => ("MG", "民公", "第五检察部"),
        _ => ("XJ", "行", "第四检察部"),
    };
    let filed = days_after(facts.date, dice.range(5, 40));
    let measure = match dice.range(0, 99) {
        0..=69 => "1",
        70..=79 => "2",
        _ => "3",
    };
    let case_number = format!(
        "{}检{short}受〔{}〕{}号",
        county_stem(&facts.county),
        filed.year(),
        dice.range(1, 300)
    );
    vec![
        ("ajbs", text(facts.source_id.clone())),
        ("bmsah", text(case_number)),
        ("ajlb", text(kind)),
        ("ajmc", text(facts.name.clone())),
        ("cbr.xm", text(person_name(dice))),
        ("cbr.bm", text(section)),
        ("slrq", Native::Date(filed)),
        ("jccs", text(measure)),
        (
            "ajzt",
            text(if finished(facts) {
                "已办结"
            } else {
                "办理中"
            }),
        ),
        (
            "xsly",
            text(*dice.pick(&["履行职责中发现", "群众举报", "行政机关移送", "信访转办"])),
        ),
    ]
}
