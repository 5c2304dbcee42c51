//! Records on persons: the population register (公安), social assistance (民政), social
//! insurance (人社), health records (卫健), veterans (退役军人事务) and medical insurance
//! (医保).

use chrono::Datelike;

use super::{
    AS_OF, Dice, Facts, Native, NativeRecord, age, amount, county_name, day, hospital,
    months_after, opt_text, person_name, recent, rural, text, township, trade_name, years_after,
};

fn born(facts: &Facts) -> chrono::NaiveDate {
    facts.birth_date.unwrap_or(facts.date)
}

fn female(facts: &Facts) -> bool {
    facts.gender.as_deref() == Some("FEMALE")
}

/// 户籍: the public security bureau's household register.
pub(super) fn household_registration(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let born = born(facts);
    let moved_in = dice.date(born, facts.date.max(born));
    vec![
        ("hjbh", text(facts.source_id.clone())),
        ("xm", text(facts.name.clone())),
        ("xb", text(if female(facts) { "2" } else { "1" })),
        ("csrq", Native::Date(born)),
        ("gmsfhm", opt_text(facts.id_number.as_deref())),
        (
            "mz",
            text(*dice.pick(&[
                "汉族",
                "汉族",
                "汉族",
                "汉族",
                "满族",
                "朝鲜族",
                "蒙古族",
                "回族",
            ])),
        ),
        ("hklx", text(if dice.percent(92) { "10" } else { "20" })),
        ("hzxm", text(facts.name.clone())),
        ("yhzgx", text(*dice.pick(&["01", "10", "20", "30"]))),
        ("hjdz.xxdz", opt_text(facts.address.as_deref())),
        ("hjdz.xzqh", text(facts.county.clone())),
        ("qrrq", Native::Date(moved_in)),
    ]
}

/// 社会救助: the civil affairs bureau's assistance cases. 救助类别 01 城市低保, 02 农村
/// 低保, 03 特困供养, 04 临时救助; 保障状态 1 在保, 2 停保.
pub(super) fn social_assistance(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let age = age(born(facts));
    let category = if age >= 60 && dice.percent(25) {
        "03"
    } else if dice.percent(10) {
        "04"
    } else if rural(facts) {
        "02"
    } else {
        "01"
    };
    let members = if category == "03" {
        1
    } else {
        dice.range(1, 5)
    };
    // Per member and month: the gap between the local standard and the household's income.
    let monthly = match category {
        "01" => members as f64 * dice.range(280, 675) as f64,
        "02" => members as f64 * dice.range(180, 420) as f64,
        "03" => dice.range(880, 1_150) as f64,
        _ => dice.range(500, 3_000) as f64,
    };
    let approved = dice.date(facts.date.min(AS_OF), AS_OF);
    // Reviewed every six months (低保, 临时救助) or every year (特困供养) after approval.
    let period = if category == "03" { 12 } else { 6 };
    let mut review_due = months_after(approved, period);
    while review_due <= AS_OF {
        review_due = months_after(review_due, period);
    }
    vec![
        ("jzzbh", text(facts.source_id.clone())),
        ("xm", text(facts.name.clone())),
        ("sfzh", opt_text(facts.id_number.as_deref())),
        ("jzlb", text(category)),
        ("jzxx.yjzje", text(format!("{monthly:.2}"))),
        ("jzxx.pzrq", Native::Date(approved)),
        ("jtxx.rks", Native::Int(members)),
        ("jtxx.jtdz", opt_text(facts.address.as_deref())),
        ("bzzt", text(if dice.percent(90) { "1" } else { "2" })),
        ("xcfhrq", Native::Date(review_due)),
    ]
}

/// 社会保险: the human resources and social security bureau's insured persons. 险种 flags
/// 1/0 for 养老 (yl), 失业 (sy) and 工伤 (gs); 参保状态 1 正常参保, 2 暂停缴费, 3 终止参保.
pub(super) fn social_insurance(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let born = born(facts);
    let age = age(born);
    let employed = dice.percent(62);
    let employer = employed.then(|| {
        let form = *dice.pick(&["有限公司", "有限责任公司", "股份有限公司"]);
        let trade = trade_name(dice);
        let industry = *dice.pick(&["商贸", "建筑工程", "食品", "物流", "机械制造", "鹿业"]);
        format!("辽源市{trade}{industry}{form}")
    });
    let base = if employed {
        dice.range(3_600, 9_000) as f64
    } else {
        // 灵活就业人员 choose the lowest bases.
        *dice.pick(&[3_650.0, 4_380.0, 5_480.0])
    };
    // Years worked count from twenty until retirement (60 for men, 50 or 55 for women),
    // the years before 1992 as deemed contributions (视同缴费).
    let retirement = if female(facts) {
        *dice.pick(&[50, 55])
    } else {
        60
    };
    let working_years = (age.min(retirement) - 20).clamp(1, 40);
    let months = working_years * 12 * dice.range(55, 100) / 100;
    let status = match dice.range(0, 99) {
        0..=84 => "1",
        85..=94 => "2",
        _ => "3",
    };
    // Individual accounts were opened from 1992 on.
    let joined = years_after(born, 18 + dice.range(0, 6))
        .max(day(1992, 1, 1))
        .min(AS_OF);
    vec![
        ("grbh", text(facts.source_id.clone())),
        ("xm", text(facts.name.clone())),
        ("shbzhm", opt_text(facts.id_number.as_deref())),
        ("cbxz.yl", Native::Int(1)),
        ("cbxz.sy", Native::Int(i64::from(employed))),
        (
            "cbxz.gs",
            Native::Int(i64::from(employed && dice.percent(90))),
        ),
        ("cbdw.dwmc", opt_text(employer.as_deref())),
        ("jfjs", Native::Float(amount(base))),
        ("ljjfys", Native::Int(months.max(1))),
        ("cbzt", text(status)),
        ("cbrq", Native::Date(joined)),
    ]
}

const CHRONIC_CONDITIONS: &[&str] = &[
    "高血压",
    "2型糖尿病",
    "冠心病",
    "慢性阻塞性肺疾病",
    "脑卒中",
];

/// 居民健康档案: the health commission's resident health records. 签约状态 已签约 / 未签约;
/// 血型 1 A, 2 B, 3 O, 4 AB, 5 不详.
pub(super) fn health_record(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let age = age(born(facts));
    let mut conditions: Vec<&str> = Vec::new();
    let chance = match age {
        ..=39 => 2,
        40..=59 => 10,
        _ => 25,
    };
    for condition in CHRONIC_CONDITIONS {
        if conditions.len() < 3 && dice.percent(chance) {
            conditions.push(condition);
        }
    }
    let contracted = dice.percent(if age >= 65 || !conditions.is_empty() {
        80
    } else {
        35
    });
    let township = township(facts);
    let clinic = if township.ends_with("街道") {
        format!("{township}社区卫生服务中心")
    } else if township.ends_with('镇') || township.ends_with('乡') {
        format!("{township}卫生院")
    } else {
        format!("{}人民医院", county_name(&facts.county))
    };
    let doctor = contracted.then(|| person_name(dice));
    let blood_type = match dice.range(0, 99) {
        0..=27 => "1",
        28..=56 => "2",
        57..=86 => "3",
        87..=96 => "4",
        _ => "5",
    };
    let opened = dice.date(facts.date.min(AS_OF), AS_OF);
    // The over-65s have a free check-up every year; others now and then.
    let checkup = if age >= 65 {
        recent(dice, 12, opened)
    } else {
        recent(dice, 36, opened)
    };
    vec![
        ("dabh", text(facts.source_id.clone())),
        ("xm", text(facts.name.clone())),
        ("sfzh", opt_text(facts.id_number.as_deref())),
        ("qyzt", text(if contracted { "已签约" } else { "未签约" })),
        ("jtys.xm", opt_text(doctor.as_deref())),
        (
            "jtys.jgmc",
            if contracted {
                text(clinic)
            } else {
                Native::Null
            },
        ),
        (
            "mbgl",
            if conditions.is_empty() {
                Native::Null
            } else {
                text(conditions.join(","))
            },
        ),
        ("xx", text(blood_type)),
        ("jdrq", Native::Date(opened)),
        ("zjtjrq", Native::Date(checkup)),
    ]
}

/// 退役军人信息: the veterans affairs bureau's register. 服役军种 LJ 陆军, HJ 海军, KJ 空军,
/// DP 第二炮兵 (before 2016), HJJ 火箭军, WJ 武警部队.
pub(super) fn veteran_status(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let born = born(facts);
    let enlisted = dice
        .date(years_after(born, 18), years_after(born, 20))
        .min(AS_OF);
    let served = dice.range(2, 16);
    let discharged = years_after(enlisted, served)
        .min(months_after(AS_OF, -1))
        .max(enlisted);
    let rocket_force_era = discharged >= day(2016, 1, 1);
    let branch = match dice.range(0, 99) {
        0..=59 => "LJ",
        60..=71 => "KJ",
        72..=79 => "HJ",
        80..=87 if rocket_force_era => "HJJ",
        80..=87 => "DP",
        _ => "WJ",
    };
    let category = if enlisted.year() < 1985 && dice.percent(40) {
        Some(*dice.pick(&["在乡复员军人", "带病回乡退伍军人", "参战退役人员"]))
    } else if dice.percent(4) {
        Some("残疾军人")
    } else {
        None
    };
    vec![
        ("tyzbh", text(facts.source_id.clone())),
        ("jbxx.xm", text(facts.name.clone())),
        ("jbxx.sfzh", opt_text(facts.id_number.as_deref())),
        ("jbxx.hjdz", opt_text(facts.address.as_deref())),
        ("fyxx.jz", text(branch)),
        ("fyxx.rwrq", Native::Date(enlisted)),
        ("fyxx.twrq", Native::Date(discharged)),
        (
            "fyxx.tyfs",
            text(if served >= 12 { "转业" } else { "退伍" }),
        ),
        ("yfdxlb", opt_text(category)),
    ]
}

/// 基本医疗保险: the healthcare security bureau's insured persons. 险种 310 职工基本医疗保险,
/// 390 城乡居民基本医疗保险; 参保状态 1 参保缴费, 2 暂停缴费, 4 终止参保 (national codes).
pub(super) fn medical_insurance(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let age = age(born(facts));
    let employee = (18..60).contains(&age) && dice.percent(45);
    let status = match dice.range(0, 99) {
        0..=89 => "1",
        90..=96 => "2",
        _ => "4",
    };
    // Employees pay monthly; residents pay for the calendar year ahead.
    let paid_until = match (employee, status) {
        (true, "1") => AS_OF,
        (true, _) => months_after(AS_OF, -dice.range(2, 18)),
        (false, "1") => day(2024, 12, 31),
        (false, _) => day(2023 - dice.range(0, 2) as i32, 12, 31),
    };
    vec![
        ("ybbh", text(facts.source_id.clone())),
        ("xm", text(facts.name.clone())),
        ("sfzh", opt_text(facts.id_number.as_deref())),
        ("cbxx.xz", text(if employee { "310" } else { "390" })),
        ("cbxx.cbzt", text(status)),
        ("cbxx.jfzzrq", Native::Date(paid_until)),
        ("ddyljg", text(hospital(facts, dice))),
    ]
}
