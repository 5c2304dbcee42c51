//! What departments hold on a thing.

use connectors::catalog::FederatedType;

use super::Federated;
use super::declare::federated_type;

pub(super) const TYPES: &[&FederatedType] = &[
    &SpecialEquipment::TYPE,
    &Hazard::TYPE,
    &Vehicle::TYPE,
    &FireFacility::TYPE,
];

federated_type! {
    /// 特种设备登记 (elevators, boilers), kept by the market regulation bureau (市场监管局).
    SpecialEquipment for Thing.specialEquipment {
        /// 设备注册代码.
        registration_code: Text,
        /// 曳引驱动乘客电梯 / 承压蒸汽锅炉 ...
        equipment_type: Text,
        manufacturer: Text,
        /// 使用单位.
        user_unit: Text,
        last_inspected_on: Date,
        next_inspection_due_on: Date,
        /// 合格 / 整改后合格 / 不合格.
        inspection_result: Text,
    }
}

federated_type! {
    /// 危险源 (gas and chemical tanks), kept by the emergency management bureau (应急管理局).
    Hazard for Thing.hazard {
        /// 危险源编号.
        hazard_number: Text,
        /// 重大危险源等级: 一级 ... 四级, or 一般危险源.
        hazard_level: Text,
        /// The substance stored.
        substance: Text,
        /// Tonnes.
        capacity: Decimal,
        /// 安全责任人.
        responsible_person: Text,
        last_inspected_on: Date,
        /// Hazards found and not yet put right (隐患未整改).
        open_issues: Integer,
    }
}

federated_type! {
    /// 道路运输车辆, kept by the transport bureau (交通运输局).
    Vehicle for Thing.vehicle {
        plate_number: Text,
        /// 普通货车 / 危险货物运输车 / 客运班车 ...
        vehicle_type: Text,
        /// 道路运输证号.
        transport_permit: Text,
        operator: Text,
        permit_valid_until: Date,
        /// Passed this year's technical review (年审).
        annual_review_passed: Boolean,
    }
}

federated_type! {
    /// 消防设施 (hydrants), kept by the fire and rescue brigade (消防救援大队).
    FireFacility for Thing.fireFacility {
        facility_number: Text,
        /// 地上式消火栓 / 地下式消火栓.
        facility_type: Text,
        /// Megapascals at the last test.
        water_pressure: Decimal,
        in_service: Boolean,
        last_tested_on: Date,
    }
}
