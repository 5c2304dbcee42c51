//! Records on places: buildings (住建), the real-estate register (自然资源), irrigation
//! works (水利), commercial outlets (商务), urban management areas (城管) and cultural
//! sites (文旅).

use chrono::Datelike;

use super::{
    AS_OF, Dice, Facts, Native, NativeRecord, amount, county_name, day, mobile, opt_text,
    person_name, recent, rural, text, township, township_office, trade_name,
};

/// 房屋基本信息 (table `fw_jbxx`): the housing bureau's building register. 建筑结构 1 钢混,
/// 2 砖混, 3 砖木, 4 钢结构; 安全等级 A to D as assessed.
pub(super) fn building(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    // (structure, floors, floor area, earliest year built, use) by kind of place.
    let (structure, floors, area, since, usage) = match facts.kind.as_str() {
        "RESIDENCE" if rural(facts) => (
            *dice.pick(&["2", "3", "3"]),
            1,
            dice.range(60, 150),
            1975,
            "住宅",
        ),
        "RESIDENCE" => (
            *dice.pick(&["1", "1", "2"]),
            *dice.pick(&[5, 6, 6, 7, 11, 18]),
            dice.range(3_000, 18_000),
            1985,
            "住宅",
        ),
        "SHOP" => ("2", dice.range(1, 3), dice.range(60, 600), 1990, "商业"),
        "MARKET" => (
            *dice.pick(&["4", "2"]),
            dice.range(1, 2),
            dice.range(1_500, 8_000),
            1995,
            "商业",
        ),
        "SCHOOL" => (
            "1",
            dice.range(2, 5),
            dice.range(2_000, 12_000),
            1995,
            "教育",
        ),
        "HOSPITAL" => (
            "1",
            dice.range(2, 8),
            dice.range(800, 15_000),
            1995,
            "医疗卫生",
        ),
        "OFFICE" => (
            "1",
            dice.range(3, 16),
            dice.range(1_200, 20_000),
            1995,
            "办公",
        ),
        "FACTORY" => (
            "4",
            dice.range(1, 3),
            dice.range(2_000, 30_000),
            2000,
            "工业",
        ),
        _ => ("2", 1, dice.range(30, 300), 1990, "其他"),
    };
    let built = dice.range(since, 2023);
    let rating = match (built, dice.range(0, 99)) {
        (..1990, 0..=39) | (1990.., 0..=69) => "A",
        (..1990, 40..=79) | (1990.., 70..=94) => "B",
        (..1990, 80..=94) | (1990.., 95..=98) => "C",
        _ => "D",
    };
    let managed = !rural(facts) && matches!(facts.kind.as_str(), "RESIDENCE" | "OFFICE");
    let manager = managed.then(|| format!("辽源市{}物业服务有限公司", trade_name(dice)));
    let fraction = dice.range(0, 99) as f64 / 100.0;
    vec![
        ("fwbh", text(facts.source_id.clone())),
        ("fwmc", text(facts.name.clone())),
        ("fwzl", opt_text(facts.address.as_deref())),
        ("fwyt", text(usage)),
        ("jzjg", text(structure)),
        ("cs", Native::Int(floors)),
        ("jcnf", Native::Int(built)),
        ("jzmj", Native::Float(amount(area as f64 + fraction))),
        ("aqdj", text(rating)),
        ("wyqy", opt_text(manager.as_deref())),
        ("gxrq", Native::Date(recent(dice, 24, facts.date))),
    ]
}

/// 不动产登记信息 (table `bdc_djxx`): the natural resources bureau's real-estate register,
/// a parcel with the floor area built on it. 土地用途 after GB/T 21010 (0101 水田, 0103
/// 旱地, 0501 零售商业用地, 0601 工业用地, 0701 城镇住宅用地, 0702 农村宅基地, 0810 公园与
/// 绿地, 08H1 机关团体用地, 08H2 科教文卫用地); 权利性质 1 国有建设用地使用权, 2 集体土地
/// 所有权, 3 土地承包经营权, 4 宅基地使用权.
pub(super) fn real_estate(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let county = county_name(&facts.county);
    let village = rural(facts);
    // (land use, right, parcel area, floor area as a share of it in percent, rights holder)
    let (land_use, right, area, built, holder) = match facts.kind.as_str() {
        "FARMLAND" => {
            let collective = dice.percent(20);
            let holder = if collective {
                format!("{}股份经济合作社", village_of(facts))
            } else {
                person_name(dice)
            };
            (
                if dice.percent(30) { "0101" } else { "0103" },
                if collective { "2" } else { "3" },
                dice.range(3_000, 40_000),
                0,
                holder,
            )
        }
        "RESIDENCE" if village => ("0702", "4", dice.range(200, 600), 30, person_name(dice)),
        "RESIDENCE" => (
            "0701",
            "1",
            dice.range(2_000, 20_000),
            dice.range(120, 250),
            format!("辽源市{}房地产开发有限公司", trade_name(dice)),
        ),
        "FACTORY" => (
            "0601",
            "1",
            dice.range(3_000, 60_000),
            dice.range(30, 60),
            facts.name.clone(),
        ),
        "MARKET" | "SHOP" => (
            "0501",
            "1",
            dice.range(150, 9_000),
            dice.range(60, 120),
            facts.name.clone(),
        ),
        "SCHOOL" | "HOSPITAL" => (
            "08H2",
            "1",
            dice.range(3_000, 30_000),
            dice.range(25, 60),
            facts.name.clone(),
        ),
        "OFFICE" => (
            "08H1",
            "1",
            dice.range(800, 10_000),
            dice.range(80, 200),
            facts.name.clone(),
        ),
        _ => (
            "0810",
            "1",
            dice.range(2_000, 30_000),
            0,
            format!("{county}人民政府"),
        ),
    };
    let area = amount(area as f64 + dice.range(0, 99) as f64 / 100.0);
    let floor_area = if built == 0 {
        Native::Null
    } else {
        Native::Float(amount(area * built as f64 / 100.0))
    };
    let registered = dice.date(day(2016, 1, 1), AS_OF);
    let certificate = format!(
        "吉({}){county}不动产权第{:07}号",
        registered.year(),
        dice.range(1, 30_000)
    );
    vec![
        ("bdcdyh", text(facts.source_id.clone())),
        ("bdcqzh", text(certificate)),
        ("zl", opt_text(facts.address.as_deref())),
        ("qlr", text(holder)),
        ("qlxz", text(right)),
        ("tdyt", text(land_use)),
        ("zdmj", Native::Float(area)),
        ("jzmj", floor_area),
        ("djrq", Native::Date(registered)),
    ]
}

/// The village an address names (…白泉镇白泉村3组 → 白泉村), or its township.
fn village_of(facts: &Facts) -> String {
    let township = township(facts);
    facts
        .address
        .as_deref()
        .and_then(|address| address.split_once(township.as_str()))
        .and_then(|(_, rest)| {
            rest.find('村')
                .map(|at| rest[..at + '村'.len_utf8()].to_owned())
        })
        .filter(|village| village.chars().count() > 1)
        .unwrap_or(township)
}

/// 水利工程: the water resources bureau's register of irrigation works. 工程类型 01 灌渠,
/// 02 机井, 03 泵站, 04 塘坝; irrigated area in 亩.
pub(super) fn irrigation_works(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let (kind, label, low, high) = match dice.range(0, 99) {
        0..=29 => ("01", "灌渠", 100, 1_500),
        30..=74 => ("02", "机井", 20, 150),
        75..=89 => ("03", "泵站", 300, 3_000),
        _ => ("04", "塘坝", 50, 600),
    };
    let number = dice.range(1, 9);
    let irrigated = amount(dice.range(low * 10, high * 10) as f64 / 10.0);
    vec![
        ("gcbh", text(facts.source_id.clone())),
        ("gcmc", text(format!("{}{number}号{label}", facts.name))),
        ("gclx", text(kind)),
        ("ggmj", Native::Float(irrigated)),
        ("szd", opt_text(facts.address.as_deref())),
        ("ghxx.zrr", text(person_name(dice))),
        ("ghxx.lxdh", text(mobile(dice))),
        ("ghxx.xcrq", Native::Date(recent(dice, 6, facts.date))),
    ]
}

/// 商贸流通网点: the commerce bureau's register of outlets. 网点类型 NM 农贸市场, CS 商场
/// 超市, PF 批发市场; 评级 0 未评定, 3 to 5 星级. Stall counts are kept as text.
pub(super) fn commercial_outlet(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let (kind, stalls) = match facts.kind.as_str() {
        "MARKET" if dice.percent(20) => ("PF", dice.range(80, 500)),
        "MARKET" => ("NM", dice.range(40, 300)),
        _ => ("CS", dice.range(5, 40)),
    };
    let operator = match kind {
        "CS" => format!("辽源市{}商贸有限公司", trade_name(dice)),
        _ => format!("辽源市{}市场管理有限公司", trade_name(dice)),
    };
    let rating = match dice.range(0, 99) {
        0..=49 => "0",
        50..=79 => "3",
        80..=94 => "4",
        _ => "5",
    };
    vec![
        ("wdbh", text(facts.source_id.clone())),
        ("wdmc", text(facts.name.clone())),
        ("wdlx", text(kind)),
        ("tws", text(stalls.to_string())),
        ("yyzt.mc", text(operator)),
        ("yyzt.fzr", text(person_name(dice))),
        ("pj", text(rating)),
        ("dz", opt_text(facts.address.as_deref())),
        (
            "djrq",
            Native::Date(dice.date(facts.date.min(AS_OF), AS_OF)),
        ),
    ]
}

/// 城市管理责任区: the urban management bureau's areas of responsibility, with the squad
/// and officer in charge and the cases still open.
pub(super) fn urban_management(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let county = county_name(&facts.county);
    let squad = *dice.pick(&["一", "二", "三", "四", "五"]);
    let open_cases = match dice.range(0, 99) {
        0..=59 => 0,
        60..=84 => 1,
        85..=94 => 2,
        _ => dice.range(3, 6),
    };
    vec![
        ("zrqbh", text(facts.source_id.clone())),
        ("zrqmc", text(format!("{}责任区", facts.name))),
        ("zrdw", text(township_office(facts))),
        (
            "zfxx.zd",
            text(format!("{county}城市管理执法大队第{squad}中队")),
        ),
        ("zfxx.dy", text(person_name(dice))),
        ("zjxcrq", Native::Date(recent(dice, 1, facts.date))),
        ("wjajs", Native::Int(open_cases)),
        ("wz", opt_text(facts.address.as_deref())),
    ]
}

/// 文物保护单位与旅游景区: the culture and tourism bureau's register. 保护级别 WB1 县级,
/// WB2 市级, WB3 省级文物保护单位, A2 to A4 the A-grades of scenic areas; 是否开放 是 / 否.
pub(super) fn cultural_site(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let (category, level) = match dice.range(0, 99) {
        0..=44 => ("城市公园", *dice.pick(&["A2", "A2", "A3"])),
        45..=64 => ("景区", *dice.pick(&["A2", "A3", "A3", "A4"])),
        65..=84 => ("近现代史迹", *dice.pick(&["WB1", "WB1", "WB2", "WB3"])),
        _ => ("古建筑", *dice.pick(&["WB1", "WB2", "WB2", "WB3"])),
    };
    let open = category != "古建筑" || dice.percent(70);
    let visitors = match (open, level) {
        (false, _) => 0,
        (true, "A4") => dice.range(100_000, 500_000),
        (true, "A3") => dice.range(20_000, 150_000),
        (true, "A2") => dice.range(5_000, 40_000),
        (true, _) => dice.range(1_000, 30_000),
    };
    vec![
        ("djbh", text(facts.source_id.clone())),
        ("mc", text(facts.name.clone())),
        ("bhjb", text(level)),
        ("lb", text(category)),
        ("sfkf", text(if open { "是" } else { "否" })),
        ("nfkl", Native::Int(visitors)),
        ("dz", opt_text(facts.address.as_deref())),
        ("gbrq", Native::Date(dice.date(day(2008, 1, 1), AS_OF))),
    ]
}
