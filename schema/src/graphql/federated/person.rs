//! What departments hold on a person.

use connectors::catalog::FederatedType;

use super::Federated;
use super::declare::federated_type;
use crate::enums::Gender;

pub(super) const TYPES: &[&FederatedType] = &[
    &HouseholdRegistration::TYPE,
    &SocialAssistance::TYPE,
    &SocialInsurance::TYPE,
    &HealthRecord::TYPE,
    &VeteranStatus::TYPE,
    &MedicalInsurance::TYPE,
];

federated_type! {
    /// 户籍登记: the household registration kept by the public security bureau (公安局).
    HouseholdRegistration for Person.householdRegistration {
        /// 户籍编号.
        registration_number: Text,
        /// 姓名 as registered.
        name: Text,
        gender: Enum(Gender),
        birth_date: Date,
        /// 公民身份号码; masked unless the caller may see personal data.
        id_number: Text [personal],
        /// 民族.
        ethnicity: Text,
        /// 户口性质: 家庭户 / 集体户.
        household_type: Text,
        /// 户主姓名.
        head_of_household: Text,
        /// 与户主关系.
        relation_to_head: Text,
        /// 户籍地址.
        registered_address: Text,
        /// When the person moved into this registration (迁入日期).
        moved_in_on: Date,
    }
}

federated_type! {
    /// 社会救助: minimum living allowance (低保), extreme-poverty support (特困供养) and
    /// temporary assistance, kept by the civil affairs bureau (民政局).
    SocialAssistance for Person.socialAssistance {
        /// 救助证编号.
        case_number: Text,
        /// 城市低保 / 农村低保 / 特困供养 / 临时救助.
        assistance_type: Text,
        /// Yuan per month.
        monthly_amount: Decimal,
        /// People in the assisted household.
        household_members: Integer,
        approved_on: Date,
        /// 在保 / 停保.
        status: Text,
        /// The next periodic review (动态复核).
        review_due_on: Date,
    }
}

federated_type! {
    /// 社会保险: pension, unemployment and work-injury insurance, kept by the human
    /// resources and social security bureau (人社局).
    SocialInsurance for Person.socialInsurance {
        /// 社会保障号码.
        insurance_number: Text,
        pension_insured: Boolean,
        unemployment_insured: Boolean,
        work_injury_insured: Boolean,
        /// The paying employer (参保单位), if any.
        employer: Text,
        /// Monthly contribution base, yuan.
        contribution_base: Decimal,
        /// Months contributed so far.
        contribution_months: Integer,
        /// 正常参保 / 暂停缴费 / 终止参保.
        status: Text,
    }
}

federated_type! {
    /// 居民健康档案, kept by the health commission (卫健局).
    HealthRecord for Person.healthRecord {
        /// 健康档案编号.
        record_number: Text,
        /// Signed up with a family doctor (家庭医生签约).
        family_doctor_contracted: Boolean,
        family_doctor: Text,
        /// Chronic conditions under management (慢病管理), comma-separated.
        chronic_conditions: Text,
        /// 血型.
        blood_type: Text,
        last_checkup_on: Date,
    }
}

federated_type! {
    /// 退役军人信息, kept by the veterans affairs bureau (退役军人事务局).
    VeteranStatus for Person.veteranStatus {
        /// 退役证编号.
        certificate_number: Text,
        /// 服役军种.
        service_branch: Text,
        enlisted_on: Date,
        discharged_on: Date,
        /// 优抚对象类别, if any.
        preferential_category: Text,
    }
}

federated_type! {
    /// 基本医疗保险, kept by the healthcare security bureau (医保局).
    MedicalInsurance for Person.medicalInsurance {
        /// 医保编号.
        insurance_number: Text,
        /// 职工医保 / 城乡居民医保.
        scheme: Text,
        /// 参保缴费 / 暂停 / 终止.
        status: Text,
        /// Contributions paid up to.
        paid_until: Date,
        /// 定点医疗机构.
        designated_hospital: Text,
    }
}
