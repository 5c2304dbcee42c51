//! Case files departments hold on an event.

use connectors::catalog::FederatedType;

use super::Federated;
use super::declare::federated_type;

pub(super) const TYPES: &[&FederatedType] = &[
    &Petition::TYPE,
    &MediationCase::TYPE,
    &CourtCase::TYPE,
    &ProcuratorialCase::TYPE,
];

federated_type! {
    /// 信访件, kept by the petitions bureau (信访局).
    Petition for Event.petition {
        petition_number: Text,
        /// 来信 / 来访 / 网上信访.
        petition_form: Text,
        registered_on: Date,
        /// 承办单位.
        handling_unit: Text,
        /// 受理 / 办理中 / 办结.
        status: Text,
        /// A repeated petition on the same matter (重复信访).
        repeated: Boolean,
        /// 满意 / 基本满意 / 不满意, once answered.
        satisfaction: Text,
    }
}

federated_type! {
    /// 人民调解案件, kept by the justice bureau (司法局).
    MediationCase for Event.mediationCase {
        case_number: Text,
        /// 人民调解委员会.
        committee: Text,
        mediator: Text,
        accepted_on: Date,
        /// 调解成功 / 调解不成功 / 调解中.
        outcome: Text,
        agreement_signed: Boolean,
        closed_on: Date,
    }
}

federated_type! {
    /// 案件 (the court's case file), kept by the people's court (人民法院).
    CourtCase for Event.courtCase {
        /// 案号, e.g. (2025)吉0422民初1234号.
        case_number: Text,
        /// 案由.
        cause_of_action: Text,
        /// 简易程序 / 普通程序 / 小额诉讼.
        procedure: Text,
        filed_on: Date,
        /// 承办法官.
        judge: Text,
        /// 审理中 / 已结案.
        status: Text,
        closed_on: Date,
        /// 判决 / 调解 / 撤诉 / 驳回.
        disposition: Text,
    }
}

federated_type! {
    /// 公益诉讼与检察监督案件, kept by the procuratorate (人民检察院).
    ProcuratorialCase for Event.procuratorialCase {
        case_number: Text,
        /// 民事公益诉讼 / 行政公益诉讼 / 行政检察.
        case_type: Text,
        procurator: Text,
        filed_on: Date,
        /// 诉前检察建议 / 提起公益诉讼 / 终结审查.
        measure: Text,
        status: Text,
    }
}
