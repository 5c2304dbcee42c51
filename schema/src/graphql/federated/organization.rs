//! What departments hold on an organization.

use connectors::catalog::FederatedType;

use super::Federated;
use super::declare::federated_type;

pub(super) const TYPES: &[&FederatedType] = &[
    &BusinessRegistration::TYPE,
    &TaxRegistration::TYPE,
    &PollutionPermit::TYPE,
    &AgriculturalEntity::TYPE,
    &SchoolLicense::TYPE,
];

federated_type! {
    /// 市场主体登记, kept by the market regulation bureau (市场监管局).
    BusinessRegistration for Organization.businessRegistration {
        /// 统一社会信用代码.
        credit_code: Text,
        registered_name: Text,
        /// 法定代表人.
        legal_representative: Text,
        /// 有限责任公司 / 个体工商户 / 农民专业合作社 ...
        enterprise_type: Text,
        /// Ten thousand yuan (万元).
        registered_capital: Decimal,
        established_on: Date,
        business_scope: Text,
        /// 存续 / 在业 / 吊销 / 注销.
        status: Text,
    }
}

federated_type! {
    /// 税务登记, kept by the tax bureau (税务局).
    TaxRegistration for Organization.taxRegistration {
        /// 纳税人识别号 (the credit code).
        taxpayer_number: Text,
        /// 一般纳税人 / 小规模纳税人.
        taxpayer_type: Text,
        /// 纳税信用等级: A / B / M / C / D.
        credit_rating: Text,
        /// Tax owed and overdue, yuan.
        arrears: Decimal,
        registered_on: Date,
    }
}

federated_type! {
    /// 排污许可, kept by the ecology and environment bureau (生态环境局).
    PollutionPermit for Organization.pollutionPermit {
        permit_number: Text,
        /// 重点管理 / 简化管理 / 登记管理.
        management_class: Text,
        /// The main pollutants, comma-separated.
        pollutants: Text,
        valid_until: Date,
        last_inspected_on: Date,
        /// Violations on record in the past three years.
        violations: Integer,
    }
}

federated_type! {
    /// 新型农业经营主体 (cooperatives, family farms), kept by the agriculture and rural
    /// affairs bureau (农业农村局).
    AgriculturalEntity for Organization.agriculturalEntity {
        registration_number: Text,
        /// 农民专业合作社 / 家庭农场.
        entity_type: Text,
        members: Integer,
        main_products: Text,
        /// 国家级 / 省级 / 市级 / 县级示范社, or none.
        demonstration_level: Text,
    }
}

federated_type! {
    /// 办学许可, kept by the education bureau (教育局).
    SchoolLicense for Organization.schoolLicense {
        license_number: Text,
        /// 小学 / 初级中学 / 完全中学 / 幼儿园 ...
        school_type: Text,
        students: Integer,
        teachers: Integer,
        license_valid_until: Date,
    }
}
