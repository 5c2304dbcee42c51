//! The words the synthetic city is made of: names of people, communities, villages,
//! housing estates, streets and businesses as they sound in Liaoyuan (辽源), a Jilin city
//! known for socks (东北袜业园), sika deer (东丰梅花鹿) and rice (东辽).

/// Surnames with relative weights, skewed to the North-East (more 赵, 孙, 于, 姜, 曲 than the
/// national table) and with the Manchu and Korean names found in the region (关, 佟, 金, 朴).
pub const SURNAMES: &[(&str, u32)] = &[
    ("王", 90),
    ("李", 85),
    ("张", 80),
    ("刘", 70),
    ("赵", 40),
    ("杨", 35),
    ("孙", 35),
    ("陈", 30),
    ("于", 25),
    ("高", 25),
    ("徐", 22),
    ("马", 22),
    ("姜", 20),
    ("周", 18),
    ("吴", 15),
    ("郭", 15),
    ("宋", 14),
    ("韩", 14),
    ("朱", 14),
    ("胡", 12),
    ("黄", 12),
    ("董", 12),
    ("崔", 12),
    ("林", 10),
    ("冯", 10),
    ("金", 10),
    ("曹", 9),
    ("何", 8),
    ("白", 8),
    ("田", 8),
    ("郑", 8),
    ("梁", 8),
    ("许", 8),
    ("贾", 8),
    ("魏", 8),
    ("吕", 7),
    ("丁", 7),
    ("杜", 7),
    ("石", 7),
    ("任", 7),
    ("孟", 7),
    ("付", 7),
    ("罗", 6),
    ("关", 6),
    ("齐", 6),
    ("姚", 6),
    ("谢", 6),
    ("唐", 6),
    ("苏", 6),
    ("卢", 6),
    ("范", 6),
    ("程", 6),
    ("侯", 6),
    ("常", 6),
    ("曲", 6),
    ("郝", 6),
    ("邹", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("薛", 5),
    ("潘", 5),
    ("方", 5),
    ("袁", 5),
    ("秦", 5),
    ("武", 5),
    ("邵", 5),
    ("康", 5),
    ("史", 5),
    ("闫", 5),
    ("佟", 4),
    ("朴", 4),
    ("叶", 4),
    ("邓", 4),
    ("彭", 4),
    ("乔", 4),
    ("贺", 4),
    ("毛", 4),
    ("鲁", 4),
    ("牛", 4),
    ("孔", 4),
    ("曾", 3),
    ("宫", 3),
    ("隋", 3),
    ("葛", 3),
    ("谷", 3),
    ("尚", 3),
    ("单", 3),
    ("洪", 2),
    ("欧阳", 1),
    ("司马", 1),
];

/// Characters of men's given names.
pub const MALE_GIVEN: &[&str] = &[
    "伟", "刚", "勇", "毅", "俊", "峰", "强", "军", "平", "保", "东", "文", "辉", "力", "明", "永",
    "健", "世", "广", "志", "义", "兴", "良", "海", "山", "仁", "波", "宁", "贵", "福", "生", "龙",
    "元", "全", "国", "胜", "学", "祥", "才", "发", "武", "新", "利", "清", "飞", "彬", "富", "顺",
    "信", "子", "杰", "涛", "昌", "成", "康", "星", "光", "天", "达", "安", "岩", "中", "茂", "进",
    "林", "有", "坚", "和", "博", "诚", "鹏", "浩", "磊", "宇", "晨", "轩", "铭", "旭", "鑫", "建",
];

/// Characters of women's given names.
pub const FEMALE_GIVEN: &[&str] = &[
    "秀", "娟", "英", "华", "慧", "巧", "美", "娜", "静", "淑", "惠", "珠", "翠", "雅", "芝", "玉",
    "萍", "红", "娥", "玲", "芬", "芳", "燕", "彩", "春", "菊", "兰", "凤", "洁", "梅", "琳", "素",
    "云", "莲", "真", "环", "雪", "荣", "爱", "妹", "霞", "香", "月", "莺", "媛", "艳", "瑞", "凡",
    "佳", "嘉", "琼", "勤", "珍", "贞", "莉", "桂", "叶", "璐", "娅", "琦", "晶", "妍", "茜", "秋",
    "珊", "莎", "锦", "黛", "青", "倩", "婷", "婉", "颖", "露", "瑶", "怡", "欣", "涵", "丽", "冬",
];

/// Urban community (社区) names, without the suffix.
pub const COMMUNITY_NAMES: &[&str] = &[
    "向阳", "长安", "光明", "民主", "新华", "繁荣", "建设", "胜利", "和平", "友谊", "团结", "幸福",
    "文化", "北山", "南山", "东兴", "西宁", "站前", "铁路", "矿山", "福寿", "康宁", "永安", "人民",
    "解放", "工农", "青年", "东盛", "安康", "富强", "兴华", "龙泉", "仙城", "泰安", "园林", "新兴",
    "朝阳", "红旗", "曙光", "明珠", "银河", "滨河", "春晖", "振兴", "惠民", "金山",
];

/// Village (村) names, without the suffix.
pub const VILLAGE_NAMES: &[&str] = &[
    "王家",
    "李家",
    "张家",
    "刘家",
    "赵家",
    "孙家",
    "杨家",
    "于家",
    "高家",
    "马家",
    "靠山",
    "太平",
    "新立",
    "永兴",
    "双山",
    "三合",
    "四合",
    "五一",
    "红石",
    "东升",
    "西岗",
    "南岭",
    "北沟",
    "大兴",
    "小河",
    "长岭",
    "平安",
    "福安",
    "兴隆",
    "石门",
    "榆树",
    "柳树",
    "杨树",
    "松树",
    "梨树",
    "柞木",
    "三道沟",
    "四道岭",
    "二道河",
    "头道",
    "前进",
    "治安",
    "新发",
    "富民",
    "泉眼",
    "金星",
    "东风",
    "团山",
    "鹿场",
    "后安",
    "前安",
    "上营",
    "下营",
    "碾子沟",
    "半截河",
    "南兴",
    "北岗",
    "腰屯",
    "双龙",
    "德胜",
    "保安",
    "曙光",
];

/// Housing estates (小区) of urban communities.
pub const ESTATES: &[&str] = &[
    "龙山花园",
    "福民小区",
    "鑫达小区",
    "金帝华府",
    "阳光家园",
    "御景园",
    "东方明珠",
    "丽都花园",
    "水岸新城",
    "锦绣江南",
    "中央华府",
    "天和苑",
    "东山名苑",
    "泰安小区",
    "康乐小区",
    "和平小区",
    "建设小区",
    "向阳小区",
    "新华小区",
    "铁路小区",
    "矿务局小区",
    "南康家园",
    "北寿小区",
    "仙城小区",
    "城市花园",
    "紫荆花园",
    "欧式小镇",
    "滨河湾",
    "凤凰城",
    "世纪城",
    "翡翠城",
    "富国小区",
    "兴华小区",
    "雅居园",
    "幸福里",
    "锦园",
    "嘉园",
    "华庭",
    "福寿家园",
    "民康小区",
    "辽河畔",
    "梧桐苑",
    "枫林绿洲",
    "金水湾",
    "怡馨园",
];

/// Urban streets and roads.
pub const ROADS: &[&str] = &[
    "人民大街",
    "辽河大路",
    "西宁大路",
    "东吉大路",
    "福镇大路",
    "北寿街",
    "南康街",
    "龙山路",
    "站前路",
    "向阳路",
    "民主大街",
    "长安街",
    "解放路",
    "新兴路",
    "富国路",
    "东山路",
    "仙城大路",
    "安家街",
    "灯塔路",
    "矿山路",
    "建设路",
    "工农路",
    "滨河路",
    "梅河路",
    "东丰大街",
    "鹿乡大路",
    "白泉路",
    "渭津街",
    "友谊路",
    "胜利街",
];

/// Trade names (字号) of shops and companies.
pub const TRADE_NAMES: &[&str] = &[
    "福源",
    "鑫达",
    "顺发",
    "宏达",
    "金鹿",
    "华兴",
    "永盛",
    "兴旺",
    "恒通",
    "安康",
    "天宝",
    "德昌",
    "聚福",
    "瑞丰",
    "隆昌",
    "吉顺",
    "金鼎",
    "盛世",
    "东升",
    "佳美",
    "润发",
    "百顺",
    "惠民",
    "红星",
    "新世纪",
    "康宁",
    "嘉禾",
    "好运来",
    "春晖",
    "鹿乡",
    "龙泉",
    "仙城",
    "富民",
    "东方",
    "明珠",
    "金星",
    "双福",
    "利民",
    "大众",
    "丰收",
    "鸿运",
    "和顺",
    "祥和",
    "众诚",
    "信诚",
    "友谊",
    "百汇",
    "宏伟",
    "辽河",
    "吉运",
];

/// Characters that open and close a coined trade name (鑫达, 福源, 宏运 ...): most 字号
/// are two auspicious characters, and coining them gives far more names than a list.
const TRADE_FIRST: &[&str] = &[
    "福", "鑫", "顺", "宏", "金", "华", "永", "兴", "恒", "安", "天", "德", "聚", "瑞", "隆", "吉",
    "盛", "东", "佳", "润", "百", "惠", "红", "康", "嘉", "春", "鹿", "龙", "富", "明", "双", "利",
    "丰", "鸿", "和", "祥", "众", "信", "友", "新", "益", "万", "泰", "宝", "源", "汇", "诚", "广",
    "正", "海",
];

const TRADE_SECOND: &[&str] = &[
    "源", "达", "发", "运", "昌", "丰", "盛", "旺", "通", "宝", "福", "顺", "兴", "利", "鑫", "华",
    "美", "和", "泰", "隆", "鼎", "辉", "晟", "鹏", "泽", "成", "邦", "润", "峰", "宇",
];

/// A trade name: mostly coined from two characters, sometimes a well-worn one.
pub fn trade_name(rng: &mut Rng) -> String {
    if rng.percent(15) {
        (*rng.pick(TRADE_NAMES)).to_owned()
    } else {
        format!("{}{}", rng.pick(TRADE_FIRST), rng.pick(TRADE_SECOND))
    }
}

/// Endings of housing-estate names coined from a community's name (向阳家园, 长安华府).
const ESTATE_SUFFIXES: &[&str] = &[
    "花园", "家园", "小区", "新村", "佳苑", "雅居", "华府", "名苑", "新城", "嘉园",
];

/// A housing estate of the community `stem` (向阳 of 向阳社区).
pub fn estate_name(rng: &mut Rng, stem: &str) -> String {
    if rng.percent(50) {
        (*rng.pick(ESTATES)).to_owned()
    } else {
        format!("{stem}{}", rng.pick(ESTATE_SUFFIXES))
    }
}

/// Kinds of small shops (their names end with these).
pub const SHOP_TYPES: &[&str] = &[
    "超市",
    "便利店",
    "五金店",
    "理发店",
    "饭店",
    "烧烤店",
    "面馆",
    "大药房",
    "水果店",
    "粮油店",
    "服装店",
    "手机店",
    "汽车修理部",
    "洗衣店",
    "早餐店",
    "烟酒店",
    "建材商店",
    "农资商店",
    "麻辣烫",
    "饺子馆",
    "冷面馆",
    "母婴店",
    "眼镜店",
    "家电商场",
    "熟食店",
    "豆腐坊",
];

/// Lines of business in company names.
pub const INDUSTRIES: &[&str] = &[
    "袜业",
    "商贸",
    "建筑工程",
    "农业科技",
    "鹿业",
    "机械制造",
    "物流",
    "餐饮管理",
    "房地产开发",
    "米业",
    "煤业",
    "纺织",
    "食品",
    "电子科技",
    "新能源",
    "建材",
    "汽车销售",
    "化工",
    "医药",
    "装饰工程",
    "劳务派遣",
    "农机",
    "木业",
    "塑料制品",
];

/// Factory names (after a trade name).
pub const FACTORY_TYPES: &[&str] = &[
    "袜业加工厂",
    "机械厂",
    "木材加工厂",
    "鹿产品加工厂",
    "大米加工厂",
    "砖厂",
    "食品厂",
    "塑料厂",
    "纺织厂",
    "饲料厂",
    "铸造厂",
    "酒厂",
    "服装加工厂",
    "混凝土搅拌站",
];

/// What farmer co-operatives grow or raise.
pub const COOPERATIVE_TRADES: &[&str] = &[
    "水稻种植",
    "玉米种植",
    "梅花鹿养殖",
    "生猪养殖",
    "黄牛养殖",
    "蔬菜种植",
    "食用菌种植",
    "中草药种植",
    "农机服务",
    "林蛙养殖",
    "蜂业",
    "果树种植",
];

/// Social organizations (社会组织).
pub const SOCIAL_ORGANIZATIONS: &[&str] = &[
    "志愿者协会",
    "老年人协会",
    "个体劳动者协会",
    "红白理事会",
    "文化艺术协会",
    "人民调解协会",
    "体育协会",
    "慈善协会",
    "秧歌协会",
    "书法家协会",
];

/// Township-level public institutions (事业单位) that are neither schools nor hospitals.
pub const TOWNSHIP_INSTITUTIONS: &[&str] = &[
    "综合服务中心",
    "农业技术推广站",
    "文化站",
    "社会保障服务中心",
    "退役军人服务站",
    "水利站",
    "林业站",
];

/// Parks and squares of urban communities.
pub const PUBLIC_SPACES: &[&str] = &["文化广场", "健身广场", "街心公园", "休闲广场", "游园"];

pub const VEHICLE_TYPES: &[&str] = &[
    "小型轿车",
    "小型越野客车",
    "轻型厢式货车",
    "重型半挂牵引车",
    "中型客车",
    "轻型自卸货车",
    "小型普通客车",
];

pub const FARM_VEHICLE_TYPES: &[&str] = &["拖拉机", "农用三轮汽车", "轻型普通货车", "小型轿车"];

/// Mobile number prefixes of the three carriers.
pub const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "198", "199",
];

use super::rng::Rng;

const CHINESE_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// A number in Chinese numerals as used in names (第三中学, 四组, 第二十一网格), for 0..=999.
pub fn chinese_number(n: u32) -> String {
    let digit = |d: u32| CHINESE_DIGITS[(d % 10) as usize];
    match n {
        0..=9 => digit(n).to_owned(),
        10..=19 => format!("十{}", if n == 10 { "" } else { digit(n % 10) }),
        20..=99 => format!(
            "{}十{}",
            digit(n / 10),
            if n.is_multiple_of(10) {
                ""
            } else {
                digit(n % 10)
            }
        ),
        _ => {
            let hundreds = format!("{}百", digit(n / 100 % 10));
            match n % 100 {
                0 => hundreds,
                rest @ 1..=9 => format!("{hundreds}零{}", digit(rest)),
                rest @ 10..=19 => format!("{hundreds}一{}", chinese_number(rest)),
                rest => format!("{hundreds}{}", chinese_number(rest)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_in_names() {
        assert_eq!(chinese_number(3), "三");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(14), "十四");
        assert_eq!(chinese_number(20), "二十");
        assert_eq!(chinese_number(21), "二十一");
        assert_eq!(chinese_number(105), "一百零五");
        assert_eq!(chinese_number(110), "一百一十");
        assert_eq!(chinese_number(999), "九百九十九");
    }

    #[test]
    fn name_lists_have_no_duplicates() {
        for list in [
            COMMUNITY_NAMES,
            VILLAGE_NAMES,
            ESTATES,
            MALE_GIVEN,
            FEMALE_GIVEN,
        ] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len());
        }
        // A township gets up to 12 distinct communities or villages.
        assert!(COMMUNITY_NAMES.len() >= 12 && VILLAGE_NAMES.len() >= 12);
    }
}
