//! Records on organizations: business registration (市场监管), tax registration (税务),
//! pollution permits (生态环境), new agricultural entities (农业农村) and school licences
//! (教育).

use super::{
    AS_OF, Dice, Facts, Native, NativeRecord, amount, county_name, day, months_after, opt_text,
    person_name, recent, text, township, years_after,
};

/// The business scope a registered name suggests.
fn business_scope(facts: &Facts) -> &'static str {
    const SCOPES: &[(&str, &str)] = &[
        ("物业", "物业管理；停车场服务；家政服务；城市绿化管理"),
        (
            "合作社",
            "组织收购、销售成员生产的农产品；为成员提供农业生产资料购买及技术服务",
        ),
        ("建材", "建筑材料销售；水泥制品制造；砂石料加工"),
        ("建筑", "房屋建筑工程施工；市政公用工程施工；建筑劳务分包"),
        ("鹿", "梅花鹿养殖；鹿产品加工、销售"),
        ("米业", "粮食收购；大米加工、销售"),
        ("物流", "道路货物运输（不含危险货物）；仓储服务；装卸搬运"),
        ("食品", "食品生产；食品销售；农副产品加工"),
        ("袜", "针纺织品制造；袜子生产、销售"),
        ("纺织", "针纺织品制造、销售"),
        ("机械", "通用设备制造；机械零部件加工"),
        ("化工", "化工产品生产（不含许可类化工产品）；化工产品销售"),
        ("医药", "药品零售；医疗器械销售"),
        ("餐饮", "餐饮服务；食品经营"),
        ("饭店", "餐饮服务；食品经营"),
        ("超市", "日用百货、食品、烟草制品零售"),
        ("汽车", "汽车销售；汽车零配件零售；机动车修理和维护"),
        ("科技", "技术服务、技术开发、技术咨询、技术转让"),
        ("学校", "全日制教育教学"),
        ("协会", "组织会员开展交流、培训和公益活动"),
    ];
    SCOPES
        .iter()
        .find(|(word, _)| facts.name.contains(word))
        .map_or(
            "一般项目：日用百货销售；五金产品零售；信息咨询服务",
            |(_, scope)| scope,
        )
}

/// 市场主体登记: the market regulation bureau's register, keyed by 统一社会信用代码. 企业
/// 类型 1130 有限责任公司, 9600 个体工商户, 9100 农民专业合作社, 8100 事业单位, 7100 社会
/// 团体; 登记状态 1 存续, 2 在业, 3 吊销, 4 注销.
pub(super) fn business_registration(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let (kind, capital) = match facts.kind.as_str() {
        "INDIVIDUAL_BUSINESS" => ("9600", dice.range(1, 50) as f64),
        "COOPERATIVE" => ("9100", dice.range(10, 500) as f64),
        "PUBLIC_INSTITUTION" => ("8100", dice.range(10, 500) as f64),
        "SOCIAL_ORGANIZATION" => ("7100", *dice.pick(&[3.0, 5.0, 10.0])),
        _ => ("1130", dice.range(10, 5_000) as f64),
    };
    let status = match dice.range(0, 99) {
        0..=59 => "1",
        60..=89 => "2",
        90..=93 => "3",
        _ => "4",
    };
    let county = county_name(&facts.county);
    vec![
        ("tyshxydm", text(facts.source_id.clone())),
        ("qymc", text(facts.name.clone())),
        ("fddbr", opt_text(facts.representative.as_deref())),
        ("qylx", text(kind)),
        ("zczb", Native::Float(amount(capital))),
        (
            "clrq",
            Native::Date(dice.date(years_after(facts.date, -10), facts.date)),
        ),
        ("jyfw", text(business_scope(facts))),
        ("djzt", text(status)),
        ("zs", opt_text(facts.address.as_deref())),
        ("djjg", text(format!("{county}市场监督管理局"))),
    ]
}

/// 纳税人信息 (table `nsrxx`): the tax bureau's taxpayer register, keyed by 纳税人识别号 (the
/// credit code). 纳税人类型 1 一般纳税人, 2 小规模纳税人; 纳税信用等级 A, B, M, C, D.
pub(super) fn tax_registration(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let registered = dice.date(years_after(facts.date, -3), facts.date);
    let general = facts.kind != "INDIVIDUAL_BUSINESS" && dice.percent(30);
    let rating = if registered > years_after(AS_OF, -1) {
        // New taxpayers are rated M until their first full year.
        "M"
    } else {
        match dice.range(0, 99) {
            0..=14 => "A",
            15..=69 => "B",
            70..=89 => "M",
            90..=96 => "C",
            _ => "D",
        }
    };
    let arrears = match rating {
        "C" | "D" => dice.range(100_000, 20_000_000) as f64 / 100.0,
        _ if dice.percent(5) => dice.range(5_000, 500_000) as f64 / 100.0,
        _ => 0.0,
    };
    let county = county_name(&facts.county);
    let office = township(facts);
    let office = office
        .strip_suffix("街道")
        .or_else(|| office.strip_suffix('镇'))
        .or_else(|| office.strip_suffix('乡'))
        .filter(|stem| !stem.is_empty() && *stem != county)
        .map_or_else(
            || format!("国家税务总局{county}税务局第一税务分局"),
            |stem| format!("国家税务总局{county}税务局{stem}税务所"),
        );
    vec![
        ("nsrsbh", text(facts.source_id.clone())),
        ("nsrmc", text(facts.name.clone())),
        ("fddbr", opt_text(facts.representative.as_deref())),
        ("nsrlx", text(if general { "1" } else { "2" })),
        ("nsrxydj", text(rating)),
        ("qsje", Native::Float(amount(arrears))),
        ("djrq", Native::Date(registered)),
        ("scjydz", opt_text(facts.address.as_deref())),
        ("zgswjg", text(office)),
    ]
}

/// 排污许可: the ecology and environment bureau's permits. 管理类别 1 重点管理, 2 简化管理,
/// 3 登记管理; the permit number is the credit code, a serial and P (许可) or W (登记).
pub(super) fn pollution_permit(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let class = match dice.range(0, 99) {
        0..=19 => "1",
        20..=59 => "2",
        _ => "3",
    };
    let suffix = if class == "3" { "W" } else { "P" };
    let permit = facts
        .credit_code
        .as_deref()
        .map(|code| format!("{code}001{suffix}"));
    let pollutants = *dice.pick(&[
        "颗粒物,二氧化硫,氮氧化物",
        "化学需氧量,氨氮",
        "化学需氧量,氨氮,总磷",
        "挥发性有机物,颗粒物",
        "颗粒物",
        "化学需氧量,氨氮,悬浮物",
    ]);
    let issued = dice.date(day(2020, 1, 1), AS_OF);
    let violations = match dice.range(0, 99) {
        0..=79 => 0,
        80..=94 => 1,
        _ => dice.range(2, 3),
    };
    vec![
        ("xkbh", text(facts.source_id.clone())),
        ("xkzh", opt_text(permit.as_deref())),
        ("dwxx.dwmc", text(facts.name.clone())),
        ("dwxx.tyshxydm", opt_text(facts.credit_code.as_deref())),
        ("dwxx.fddbr", opt_text(facts.representative.as_deref())),
        ("gllb", text(class)),
        ("zywrw", text(pollutants)),
        ("yxq.qsrq", Native::Date(issued)),
        ("yxq.jzrq", Native::Date(years_after(issued, 5))),
        ("zjjcrq", Native::Date(recent(dice, 12, facts.date))),
        ("wfcs", Native::Int(violations)),
    ]
}

/// 新型农业经营主体: the agriculture and rural affairs bureau's cooperatives and family
/// farms. 主体类型 1 农民专业合作社, 2 家庭农场; 示范级别 1 国家级 to 4 县级示范社, none
/// when not a model.
pub(super) fn agricultural_entity(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    const PRODUCTS: &[(&str, &str)] = &[
        ("水稻", "水稻,大米"),
        ("玉米", "玉米"),
        ("梅花鹿", "梅花鹿,鹿茸"),
        ("生猪", "生猪"),
        ("黄牛", "肉牛"),
        ("蔬菜", "蔬菜"),
        ("食用菌", "黑木耳,香菇"),
        ("中草药", "人参,五味子"),
        ("农机", "农机作业服务"),
        ("林蛙", "中国林蛙"),
        ("蜂", "蜂蜜"),
        ("果树", "苹果梨,李子"),
    ];
    let farm = facts.name.contains("家庭农场");
    let products = PRODUCTS
        .iter()
        .find(|(word, _)| facts.name.contains(word))
        .map_or_else(
            || *dice.pick(&["玉米,大豆", "水稻", "杂粮杂豆"]),
            |(_, p)| p,
        );
    let members = if farm {
        dice.range(2, 6)
    } else {
        dice.range(5, 200)
    };
    let level = match dice.range(0, 99) {
        0..=1 => Some("1"),
        2..=6 => Some("2"),
        7..=16 => Some("3"),
        17..=31 => Some("4"),
        _ => None,
    };
    vec![
        ("ztbh", text(facts.source_id.clone())),
        ("ztmc", text(facts.name.clone())),
        ("tyshxydm", opt_text(facts.credit_code.as_deref())),
        ("ztlx", text(if farm { "2" } else { "1" })),
        ("cysl", Native::Int(members)),
        ("zycp", text(products)),
        ("sfjb", opt_text(level)),
        ("fr.xm", opt_text(facts.representative.as_deref())),
        (
            "clrq",
            Native::Date(dice.date(years_after(facts.date, -8), facts.date)),
        ),
    ]
}

/// 办学许可: the education bureau's licensed schools. 学校类型 after the ministry's codes
/// (111 幼儿园, 211 小学, 311 初级中学, 341 完全中学) and 999 校外培训机构.
pub(super) fn school_license(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let name = facts.name.as_str();
    // (type, students, students per teacher)
    let (kind, students, ratio) = if name.contains("幼儿园") {
        ("111", dice.range(60, 300), 12)
    } else if name.contains("培训") {
        ("999", dice.range(50, 400), 20)
    } else if name.contains("中学") && name.contains('第') {
        ("341", dice.range(800, 2_500), 13)
    } else if name.contains("中学") {
        ("311", dice.range(300, 1_500), 12)
    } else {
        ("211", dice.range(100, 1_500), 17)
    };
    let teachers = (students / ratio).max(4) + dice.range(0, 5);
    let private = kind == "999" || (kind == "111" && dice.percent(50));
    let license = if private {
        format!("教民1{}7{}号", facts.county, dice.digits(7))
    } else {
        format!("吉教许{}{}号", facts.county, dice.digits(5))
    };
    vec![
        ("xxbsm", text(facts.source_id.clone())),
        ("xxmc", text(name)),
        ("xkzh", text(license)),
        ("xxlx", text(kind)),
        ("bxxz", text(if private { "民办" } else { "公办" })),
        ("xss", Native::Int(students)),
        ("zrjss", Native::Int(teachers)),
        (
            "xkyxq",
            Native::Date(months_after(AS_OF, dice.range(1, 60))),
        ),
        ("xz.xm", text(person_name(dice))),
        ("xxdz", opt_text(facts.address.as_deref())),
    ]
}
