//! Records on things: special equipment (市场监管), hazards (应急管理), road transport
//! vehicles (交通运输) and fire hydrants (消防救援).

use super::{
    AS_OF, Dice, Facts, Native, NativeRecord, county_name, mobile, months_after, opt_text,
    person_name, recent, text, trade_name, years_after,
};

/// 特种设备登记: the market regulation bureau's register of elevators and boilers. 设备
/// 种类 after the TSG catalogue (3110 曳引驱动乘客电梯, 1100 承压蒸汽锅炉, 1200 承压热水
/// 锅炉, 2100 固定式压力容器); 检验结论 1 合格, 2 整改后合格, 3 不合格.
pub(super) fn special_equipment(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let (kind, manufacturer, user) = match facts.kind.as_str() {
        "ELEVATOR" => (
            "3110",
            *dice.pick(&[
                "日立电梯（中国）有限公司",
                "奥的斯电梯（中国）有限公司",
                "通力电梯有限公司",
                "上海三菱电梯有限公司",
                "康力电梯股份有限公司",
            ]),
            format!("辽源市{}物业服务有限公司", trade_name(dice)),
        ),
        "BOILER" => (
            if dice.percent(30) { "1100" } else { "1200" },
            *dice.pick(&[
                "太原锅炉集团有限公司",
                "郑州锅炉股份有限公司",
                "哈尔滨红光锅炉总厂有限责任公司",
            ]),
            format!(
                "{}{}热力有限公司",
                county_name(&facts.county),
                trade_name(dice)
            ),
        ),
        _ => (
            "2100",
            "吉林市化工机械有限公司",
            format!("辽源市{}化工有限公司", trade_name(dice)),
        ),
    };
    // Elevators and boilers are inspected every year.
    let inspected = recent(dice, 12, facts.date);
    let result = match dice.range(0, 99) {
        0..=84 => "1",
        85..=96 => "2",
        _ => "3",
    };
    vec![
        ("sbbh", text(facts.source_id.clone())),
        ("zcdm", opt_text(facts.identifier.as_deref())),
        ("sbmc", text(facts.name.clone())),
        ("sbzl", text(kind)),
        ("zzdw", text(manufacturer)),
        ("sydw.mc", text(user)),
        ("sydw.dz", opt_text(facts.address.as_deref())),
        ("jyxx.scjyrq", Native::Date(inspected)),
        ("jyxx.xcjyrq", Native::Date(years_after(inspected, 1))),
        ("jyxx.jyjl", text(result)),
    ]
}

/// 危险源: the emergency management bureau's register of gas and chemical tanks. 等级 1
/// to 4 for major hazards (一级 to 四级), 9 一般危险源; capacity in tonnes, kept as text.
pub(super) fn hazard(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let (level, substance, capacity) = match facts.kind.as_str() {
        "CHEMICAL_TANK" => {
            let level = match dice.range(0, 99) {
                0..=59 => "9",
                60..=79 => "4",
                80..=91 => "3",
                92..=97 => "2",
                _ => "1",
            };
            let substance = *dice.pick(&["液氨", "甲醇", "硫酸", "盐酸", "柴油", "液氯"]);
            (level, substance, dice.range(100, 5_000) as f64 / 10.0)
        }
        // Bottled gas: 15 kg and 50 kg cylinders of liquefied petroleum gas.
        _ => (
            "9",
            "液化石油气",
            if dice.percent(60) { 0.015 } else { 0.05 },
        ),
    };
    let open_issues = match dice.range(0, 99) {
        0..=69 => 0,
        70..=89 => 1,
        _ => dice.range(2, 4),
    };
    vec![
        ("wxybh", text(facts.source_id.clone())),
        ("wxymc", text(facts.name.clone())),
        ("dj", text(level)),
        ("wz.mc", text(substance)),
        (
            "wz.cl",
            text(if capacity < 1.0 {
                format!("{capacity:.3}")
            } else {
                format!("{capacity:.1}")
            }),
        ),
        ("zrr.xm", text(person_name(dice))),
        ("zrr.lxdh", text(mobile(dice))),
        ("jcrq", Native::Date(recent(dice, 3, facts.date))),
        ("wzgyhs", Native::Int(open_issues)),
        ("dz", opt_text(facts.address.as_deref())),
    ]
}

/// 道路运输车辆: the transport bureau's register. 车辆类型 01 普通货车, 02 危险货物运输车,
/// 03 客运班车, 04 出租客车, 05 农用运输车; 年审结论 合格 / 不合格.
pub(super) fn vehicle(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let name = facts.name.as_str();
    let kind = if name.contains("拖拉机") || name.contains("三轮") {
        "05"
    } else if name.contains("轿车") {
        "04"
    } else if name.contains("客车") {
        "03"
    } else if dice.percent(6) {
        "02"
    } else {
        "01"
    };
    let operator = if dice.percent(55) {
        format!("辽源市{}运输有限公司", trade_name(dice))
    } else {
        // 个体运输业户.
        person_name(dice)
    };
    let permit = format!("{}{}", facts.county, dice.digits(6));
    let reviewed = recent(dice, 12, facts.date);
    let passed = dice.percent(94);
    vec![
        ("clbh", text(facts.source_id.clone())),
        ("cphm", opt_text(facts.identifier.as_deref())),
        ("cllx", text(kind)),
        ("dlyszh", text(permit)),
        ("yh.mc", text(operator)),
        (
            "yh.jyxkzh",
            text(format!(
                "吉交运管许可辽字{}{}号",
                facts.county,
                dice.digits(6)
            )),
        ),
        (
            "yxqz",
            Native::Date(months_after(AS_OF, dice.range(-2, 48))),
        ),
        ("nsxx.jl", text(if passed { "合格" } else { "不合格" })),
        ("nsxx.rq", Native::Date(reviewed)),
    ]
}

/// 消防设施: the fire and rescue brigade's hydrants. 类型 SS 地上式, DX 地下式; pressure in
/// MPa at the last test; whether in service as a JSON boolean.
pub(super) fn fire_facility(facts: &Facts, dice: &mut Dice) -> NativeRecord {
    let in_service = dice.percent(93);
    let pressure = if in_service {
        dice.range(14, 45) as f64 / 100.0
    } else {
        dice.range(0, 5) as f64 / 100.0
    };
    vec![
        ("ssbh", text(facts.source_id.clone())),
        ("sslx", text(if dice.percent(50) { "SS" } else { "DX" })),
        ("gg", text(*dice.pick(&["DN100", "DN100", "DN150"]))),
        ("sy", Native::Float(pressure)),
        ("zt", Native::Bool(in_service)),
        ("csrq", Native::Date(recent(dice, 6, facts.date))),
        ("wz.ms", text(facts.name.clone())),
        ("wz.dz", opt_text(facts.address.as_deref())),
    ]
}
