//! What events say: per-category title and description templates, as a grid worker or a
//! 12345 operator would write them, filled with the names of the place, community and
//! organization concerned.

use super::rng::Rng;
use schema::enums::{EventCategory, OrganizationKind, PlaceKind};

/// Where a template makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Any,
    Urban,
    Rural,
}

struct Template {
    setting: Setting,
    title: &'static str,
    description: &'static str,
}

const fn t(setting: Setting, title: &'static str, description: &'static str) -> Template {
    Template {
        setting,
        title,
        description,
    }
}

use Setting::{Any, Rural, Urban};

const NEIGHBOR: &[Template] = &[
    t(
        Urban,
        "{place}楼上漏水引发邻里纠纷",
        "居民反映{place}楼上住户卫生间漏水，渗至楼下住户顶棚，墙皮脱落。双方就维修及赔偿协商未果，请求社区调解。",
    ),
    t(
        Urban,
        "{place}夜间噪音扰民引发纠纷",
        "{place}住户反映邻居长期夜间装修、聚会喧哗，影响老人和孩子休息，多次上门沟通无果，矛盾有激化倾向。",
    ),
    t(
        Urban,
        "{place}楼道堆放杂物引发邻里矛盾",
        "{place}有住户在楼道内长期堆放纸壳、旧家具，邻居认为存在消防隐患要求清理，双方发生口角。",
    ),
    t(
        Any,
        "{community}犬只伤人纠纷",
        "居民在{place}附近被邻居饲养的犬只咬伤，已注射狂犬疫苗，双方就医疗费用约{amount}元的赔偿产生争议。",
    ),
    t(
        Rural,
        "{place}院墙排水纠纷",
        "两户村民因院墙排水沟走向发生争执，一方认为雨水流入自家院内，{n}次协商未果，请求村调委会调解。",
    ),
    t(
        Rural,
        "{community}村民因柴草垛占道发生争执",
        "村民反映邻居在{place}门前堆放柴草垛占用村路，影响车辆通行，双方多次争吵。",
    ),
];

const FAMILY: &[Template] = &[
    t(
        Any,
        "{community}老人赡养纠纷",
        "{community}一位{age}岁老人反映子女不履行赡养义务，不支付生活费和医疗费，请求调解。",
    ),
    t(
        Any,
        "{community}离婚财产分割纠纷",
        "居民反映与配偶离婚时对{place}房产及共同存款分割存在争议，情绪激动，请求帮助调解。",
    ),
    t(
        Any,
        "{community}家庭矛盾引发争吵",
        "网格员走访发现{place}一户夫妻因家庭琐事多次争吵，存在矛盾激化风险，已进行劝解并上报。",
    ),
    t(
        Any,
        "{community}遗产继承纠纷",
        "{n}名兄弟姐妹因父母遗留房屋的继承问题发生争执，请求调解。",
    ),
];

const LABOR: &[Template] = &[
    t(
        Any,
        "{org}拖欠{n}名员工工资",
        "{n}名员工反映{org}拖欠{months}个月工资共计约{amount}元，多次讨要未果，请求帮助追讨。",
    ),
    t(
        Any,
        "{org}未签订劳动合同",
        "职工反映在{org}工作一年多，单位未签订书面劳动合同，也未缴纳社会保险。",
    ),
    t(
        Any,
        "农民工讨要工程款",
        "{n}名农民工反映在{org}承建的{place}工地务工，包工头拖欠工资约{amount}元，情绪激动。",
    ),
    t(
        Any,
        "{org}违法解除劳动合同",
        "职工反映{org}以经营困难为由单方解除劳动合同，未支付经济补偿金。",
    ),
];

const PROPERTY: &[Template] = &[
    t(
        Urban,
        "{place}电梯频繁故障维修不及时",
        "{place}居民反映电梯近一个月内停运{n}次，物业维修不及时，老人上下楼困难。",
    ),
    t(
        Urban,
        "{place}冬季供暖温度不达标",
        "{place}居民反映室内温度仅{temp}℃，低于16℃的供热标准，多次向物业和供热公司反映无果。",
    ),
    t(
        Urban,
        "{community}物业费收费标准争议",
        "{place}业主对物业公司上调物业费标准有异议，认为服务质量未提升，部分业主拒交物业费。",
    ),
    t(
        Urban,
        "{place}楼顶漏雨物业推诿",
        "{place}顶层住户反映楼顶防水层老化漏雨，物业以需动用维修基金为由推诿。",
    ),
    t(
        Urban,
        "{place}小区停车位管理纠纷",
        "{place}业主反映物业将公共区域划为收费停车位，业主不认可，双方发生争执。",
    ),
    t(
        Any,
        "{place}生活垃圾清运不及时",
        "居民反映{place}垃圾点已{n}天未清运，气味难闻，影响环境卫生。",
    ),
];

const LAND: &[Template] = &[
    t(
        Rural,
        "{place}土地承包经营权纠纷",
        "村民反映{place}被他人耕种，双方对承包合同期限和地块边界存在争议，请求调解。",
    ),
    t(
        Rural,
        "{community}宅基地边界纠纷",
        "两户村民因宅基地边界发生争执，一方建房时越界约{n}米，对方阻止施工。",
    ),
    t(
        Rural,
        "{place}林地权属争议",
        "村民反映{place}的林地权属不清，与邻村村民就林木采伐发生争执。",
    ),
    t(
        Rural,
        "{community}土地流转费拖欠",
        "{n}户村民反映{org}拖欠土地流转费约{amount}元，请求帮助追讨。",
    ),
    t(
        Any,
        "{community}征地补偿款分配争议",
        "村民对{place}一带征地补偿款的分配方案有异议，认为分配不公。",
    ),
];

const SAFETY: &[Template] = &[
    t(
        Any,
        "{place}违规使用液化气罐",
        "网格员巡查发现{place}后厨违规存放{n}个液化气钢瓶，未安装燃气泄漏报警装置，已责令整改。",
    ),
    t(
        Any,
        "{place}消防通道被占用",
        "居民反映{place}消防通道被车辆和杂物长期占用，存在火灾隐患。",
    ),
    t(
        Urban,
        "{place}电动车楼道内充电",
        "网格员发现{place}有住户将电动自行车推入楼道飞线充电，存在较大火灾隐患。",
    ),
    t(
        Any,
        "{place}私拉乱接电线",
        "巡查发现{place}私拉乱接电线，部分电线老化裸露，存在触电和火灾隐患。",
    ),
    t(
        Any,
        "{place}灭火器过期",
        "网格员检查发现{place}配置的{n}具灭火器已过期，要求限期更换。",
    ),
    t(
        Urban,
        "{place}外墙皮脱落存在隐患",
        "居民反映{place}外墙保温层大面积空鼓，部分已脱落，威胁行人安全。",
    ),
    t(
        Rural,
        "{place}危房存在安全隐患",
        "网格员走访发现{place}房屋墙体开裂，屋顶下沉，住户为{age}岁老人，存在安全隐患。",
    ),
];

const ENVIRONMENT: &[Template] = &[
    t(
        Any,
        "{place}油烟扰民",
        "居民反映{place}油烟直排，未安装油烟净化设施，气味影响周边住户。",
    ),
    t(
        Any,
        "{place}夜间生产噪音扰民",
        "周边居民反映{place}夜间生产噪音较大，影响休息，持续约{n}个月。",
    ),
    t(
        Any,
        "{place}污水直排",
        "群众反映{place}生产污水未经处理直排，附近水体发黑发臭。",
    ),
    t(
        Rural,
        "{place}焚烧秸秆",
        "网格员巡查发现{place}有村民露天焚烧秸秆，已现场制止并宣传禁烧政策。",
    ),
    t(
        Any,
        "{place}粉尘污染",
        "居民反映{place}生产作业粉尘较大，未采取遮盖喷淋措施。",
    ),
];

const APPEARANCE: &[Template] = &[
    t(
        Any,
        "{place}门前乱堆乱放",
        "网格员巡查发现{place}门前乱堆乱放杂物，影响市容。",
    ),
    t(
        Urban,
        "{community}人行道积雪未清理",
        "居民反映{community}路段人行道积雪结冰未及时清理，已有行人滑倒。",
    ),
    t(
        Urban,
        "{place}占道经营",
        "{place}商户在人行道上摆摊设点、占道经营，影响行人通行。",
    ),
    t(
        Any,
        "{community}垃圾箱满溢",
        "居民反映{place}附近垃圾箱满溢，垃圾散落地面无人清理。",
    ),
    t(
        Urban,
        "{community}井盖缺失",
        "居民反映{place}附近一处井盖缺失，存在行人跌落隐患。",
    ),
    t(
        Any,
        "{place}私搭乱建",
        "网格员巡查发现{place}有私搭乱建的彩钢房，约{n}平方米。",
    ),
];

const CONSUMER: &[Template] = &[
    t(
        Any,
        "{org}出售过期食品",
        "消费者反映在{org}购买的食品已过保质期，要求退货赔偿，商家拒绝。",
    ),
    t(
        Any,
        "{org}预付卡退费纠纷",
        "消费者在{org}办理预付卡{amount}元，商家停业后拒绝退还余额。",
    ),
    t(
        Any,
        "{org}商品质量问题拒绝退换",
        "消费者反映在{org}购买的商品存在质量问题，商家拒绝退换。",
    ),
    t(
        Any,
        "{org}价格欺诈",
        "消费者反映{org}明码标价与实际结算价格不符，多收费用约{amount}元。",
    ),
];

const ASSISTANCE: &[Template] = &[
    t(
        Any,
        "{community}困难家庭申请低保",
        "{community}一户家庭因主要劳动力患病丧失劳动能力，家庭收入低于低保标准，申请最低生活保障。",
    ),
    t(
        Any,
        "{community}独居老人需要帮扶",
        "网格员走访发现{place}一位{age}岁独居老人行动不便，无人照料，需要帮扶。",
    ),
    t(
        Any,
        "{community}残疾人申请补贴",
        "{community}一名残疾人申请困难残疾人生活补贴和重度残疾人护理补贴。",
    ),
    t(
        Any,
        "{community}因病致贫申请临时救助",
        "居民反映家人患重病，医疗费用约{amount}元，家庭困难，申请临时救助。",
    ),
    t(
        Any,
        "{community}冬季取暖困难",
        "{place}一户困难群众冬季取暖困难，申请取暖补贴。",
    ),
];

const ORDER: &[Template] = &[
    t(
        Any,
        "{place}附近疑似聚众赌博",
        "群众反映{place}附近有人员聚集疑似赌博，请求查处。",
    ),
    t(
        Any,
        "{community}电动车电瓶被盗",
        "居民反映停放在{place}的电动车电瓶被盗，已报警。",
    ),
    t(
        Any,
        "{place}醉酒滋事",
        "{place}有人员醉酒后滋事，损坏物品，经民警处置后平息。",
    ),
    t(
        Any,
        "{community}疑似电信诈骗",
        "网格员走访发现{community}一位{age}岁居民疑似遭遇电信诈骗，已协助报警并开展反诈宣传。",
    ),
];

const TRAFFIC: &[Template] = &[
    t(
        Urban,
        "{community}路口信号灯故障",
        "群众反映{place}附近路口信号灯故障，交通秩序混乱。",
    ),
    t(
        Any,
        "{place}门前车辆乱停乱放",
        "居民反映{place}门前车辆乱停乱放，堵塞通道。",
    ),
    t(
        Any,
        "{community}道路坑洼积水",
        "居民反映{place}附近道路坑洼不平，雨后积水，车辆行人通行困难。",
    ),
    t(
        Urban,
        "{place}上下学时段交通拥堵",
        "家长反映{place}周边上下学时段车辆拥堵，存在安全隐患。",
    ),
    t(
        Rural,
        "{community}村路货车超载",
        "村民反映有超载货车经过{place}附近村路，道路损坏严重。",
    ),
];

fn templates(category: EventCategory) -> &'static [Template] {
    match category {
        EventCategory::NeighborDispute => NEIGHBOR,
        EventCategory::FamilyDispute => FAMILY,
        EventCategory::LaborDispute => LABOR,
        EventCategory::PropertyManagement => PROPERTY,
        EventCategory::LandDispute => LAND,
        EventCategory::SafetyHazard => SAFETY,
        EventCategory::Environment => ENVIRONMENT,
        EventCategory::CityAppearance => APPEARANCE,
        EventCategory::ConsumerRights => CONSUMER,
        EventCategory::SocialAssistance => ASSISTANCE,
        EventCategory::PublicOrder => ORDER,
        EventCategory::Traffic => TRAFFIC,
    }
}

/// Where events of a category happen.
pub fn usual_places(category: EventCategory) -> &'static [PlaceKind] {
    use PlaceKind as P;
    match category {
        EventCategory::NeighborDispute
        | EventCategory::FamilyDispute
        | EventCategory::PropertyManagement
        | EventCategory::SocialAssistance => &[P::Residence],
        EventCategory::LaborDispute => &[P::Factory, P::Office, P::Shop],
        EventCategory::LandDispute => &[P::Farmland],
        EventCategory::SafetyHazard => &[P::Shop, P::Market, P::Factory, P::Residence],
        EventCategory::Environment => &[P::Factory, P::Shop, P::Market],
        EventCategory::CityAppearance => &[P::Shop, P::Market, P::PublicSpace],
        EventCategory::ConsumerRights => &[P::Shop, P::Market],
        EventCategory::PublicOrder => &[P::PublicSpace, P::Shop, P::Residence],
        EventCategory::Traffic => &[P::School, P::PublicSpace, P::Market, P::Shop],
    }
}

/// The organizations a category's events are lodged against, if any.
pub fn respondent_kinds(category: EventCategory) -> &'static [OrganizationKind] {
    use OrganizationKind as O;
    match category {
        EventCategory::LaborDispute => &[O::Enterprise],
        EventCategory::ConsumerRights => &[O::IndividualBusiness, O::Enterprise],
        EventCategory::PropertyManagement => &[O::PropertyManagement],
        EventCategory::LandDispute => &[O::Cooperative],
        _ => &[],
    }
}

/// The names a template is filled with.
pub struct Subject<'a> {
    pub place: &'a str,
    pub community: &'a str,
    pub organization: &'a str,
}

/// Title and description of an event of `category`.
pub fn compose(
    rng: &mut Rng,
    category: EventCategory,
    village: bool,
    subject: &Subject<'_>,
) -> (String, String) {
    let all = templates(category);
    let fitting: Vec<&Template> = all
        .iter()
        .filter(|t| match t.setting {
            Any => true,
            Urban => !village,
            Rural => village,
        })
        .collect();
    let template = if fitting.is_empty() {
        rng.pick(all)
    } else {
        *rng.pick(&fitting)
    };
    let numbers = Numbers {
        n: 2 + rng.below(12),
        amount: (3 + rng.below(180)) * 500,
        months: 2 + rng.below(8),
        age: 68 + rng.below(22),
        temp: 10 + rng.below(5),
    };
    (
        fill(template.title, subject, &numbers),
        fill(template.description, subject, &numbers),
    )
}

struct Numbers {
    n: u64,
    amount: u64,
    months: u64,
    age: u64,
    temp: u64,
}

fn fill(template: &str, subject: &Subject<'_>, numbers: &Numbers) -> String {
    let mut text = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            text.push_str(&rest[open..]);
            return text;
        };
        match &after[..close] {
            "place" => text.push_str(subject.place),
            "community" => text.push_str(subject.community),
            "org" => text.push_str(subject.organization),
            "n" => text.push_str(&numbers.n.to_string()),
            "amount" => text.push_str(&numbers.amount.to_string()),
            "months" => text.push_str(&numbers.months.to_string()),
            "age" => text.push_str(&numbers.age.to_string()),
            "temp" => text.push_str(&numbers.temp.to_string()),
            other => {
                text.push('{');
                text.push_str(other);
                text.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    text.push_str(rest);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_every_placeholder() {
        let subject = Subject {
            place: "龙山花园3号楼2单元",
            community: "向阳社区",
            organization: "辽源市鑫达袜业有限公司",
        };
        let mut rng = Rng::new(3);
        for &category in EventCategory::ALL {
            assert!(!templates(category).is_empty());
            for village in [false, true] {
                for _ in 0..50 {
                    let (title, description) = compose(&mut rng, category, village, &subject);
                    assert!(
                        !title.contains('{') && !description.contains('{'),
                        "{title}"
                    );
                    assert!(!title.is_empty() && !description.is_empty());
                }
            }
        }
    }
}
