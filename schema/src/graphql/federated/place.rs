//! What departments hold on a place.

use connectors::catalog::FederatedType;

use super::Federated;
use super::declare::federated_type;

pub(super) const TYPES: &[&FederatedType] = &[
    &Building::TYPE,
    &LandParcel::TYPE,
    &IrrigationWorks::TYPE,
    &CommercialOutlet::TYPE,
    &UrbanManagementArea::TYPE,
    &CulturalSite::TYPE,
];

federated_type! {
    /// 房屋建筑信息, kept by the housing and construction bureau (住建局); the floor area may
    /// also come from the real-estate register (自然资源局), which yields to it.
    Building for Place.building {
        /// 房屋编号.
        building_number: Text,
        /// 建筑结构: 钢混 / 砖混 / 砖木 / 钢结构.
        structure: Text,
        floors: Integer,
        built_year: Integer,
        /// Square metres.
        floor_area: Decimal,
        /// 房屋安全等级: A / B / C / D (D is dangerous).
        safety_rating: Text,
        /// 物业服务企业.
        property_manager: Text,
    }
}

federated_type! {
    /// 不动产登记, kept by the natural resources bureau (自然资源局).
    LandParcel for Place.landParcel {
        /// 不动产单元号.
        parcel_number: Text,
        /// 土地用途: 住宅用地 / 商服用地 / 工业用地 / 耕地 ...
        land_use: Text,
        /// Square metres.
        area: Decimal,
        /// 权利人.
        rights_holder: Text,
        /// 权利性质: 国有建设用地使用权 / 集体土地所有权 / 土地承包经营权.
        right_type: Text,
        registered_on: Date,
    }
}

federated_type! {
    /// 水利工程 (irrigation works on farmland), kept by the water resources bureau (水利局).
    IrrigationWorks for Place.irrigationWorks {
        /// 工程编号.
        works_number: Text,
        /// 灌渠 / 机井 / 泵站 / 塘坝.
        works_type: Text,
        /// Mu (亩) irrigated.
        irrigated_area: Decimal,
        /// 管护责任人.
        caretaker: Text,
        last_inspected_on: Date,
    }
}

federated_type! {
    /// 商贸流通网点, kept by the commerce bureau (商务局).
    CommercialOutlet for Place.commercialOutlet {
        /// 网点编号.
        outlet_number: Text,
        /// 农贸市场 / 商场超市 / 批发市场.
        outlet_type: Text,
        stalls: Integer,
        operator: Text,
        /// 标准化市场评级.
        rating: Text,
    }
}

federated_type! {
    /// 城市管理责任区, kept by the urban management bureau (城管执法局).
    UrbanManagementArea for Place.urbanManagement {
        /// 责任区编号.
        area_number: Text,
        /// 责任单位.
        responsible_unit: Text,
        /// 网格执法队员.
        inspector: Text,
        last_inspected_on: Date,
        /// Cases (违章占道, 乱堆乱放, ...) open at this place.
        open_cases: Integer,
    }
}

federated_type! {
    /// 文物保护单位与旅游景区, kept by the culture and tourism bureau (文旅局).
    CulturalSite for Place.culturalSite {
        /// 登记编号.
        site_number: Text,
        /// 县级文物保护单位 / 市级 / 省级 / A级景区 ...
        protection_level: Text,
        /// 古建筑 / 近现代史迹 / 城市公园 / 景区.
        category: Text,
        open_to_public: Boolean,
        annual_visitors: Integer,
    }
}
