//! The closed vocabularies of the domain. Each is stored as its GraphQL name in a TEXT
//! column (with a CHECK constraint where the set is fixed), so SQL, GraphQL and Rust
//! spell every value the same way.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        /// The first value: what a field holds when a list leaves its column unread
        /// (see `store::ColumnSet`), never a value of the domain's own choosing.
        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Every value's name, as GraphQL, SQL and department mappings spell it.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("unexpected ", stringify!($name), " value `{}`"), text))
                })
            }
        }

        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                Self::parse(text).ok_or_else(|| {
                    format!(concat!("unexpected ", stringify!($name), " value `{}`"), text).into()
                })
            }
        }

        impl Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode(self.as_str(), buf)
            }
        }
    };
}

text_enum!(
    /// A level of the administrative tree.
    JurisdictionLevel {
        City => "CITY",
        County => "COUNTY",
        Township => "TOWNSHIP",
        /// A village (村) or an urban community (社区).
        Community => "COMMUNITY",
        Grid => "GRID",
    }
);

text_enum!(
    /// What kind of unit a jurisdiction is.
    JurisdictionKind {
        City => "CITY",
        /// 市辖区
        District => "DISTRICT",
        /// 县
        County => "COUNTY",
        /// 街道
        Street => "STREET",
        /// 镇
        Town => "TOWN",
        /// 乡
        Township => "TOWNSHIP",
        /// 民族乡
        EthnicTownship => "ETHNIC_TOWNSHIP",
        /// 社区
        UrbanCommunity => "URBAN_COMMUNITY",
        /// 村
        Village => "VILLAGE",
        /// 网格
        Grid => "GRID",
    }
);

text_enum!(
    /// The 24 functional department types found in every county.
    DepartmentKind {
        /// 公安局
        PublicSecurity => "PUBLIC_SECURITY",
        /// 民政局
        CivilAffairs => "CIVIL_AFFAIRS",
        /// 司法局
        Justice => "JUSTICE",
        /// 信访局
        Petitions => "PETITIONS",
        /// 人社局
        HumanResourcesSocialSecurity => "HUMAN_RESOURCES_SOCIAL_SECURITY",
        /// 自然资源局
        NaturalResources => "NATURAL_RESOURCES",
        /// 住建局
        HousingConstruction => "HOUSING_CONSTRUCTION",
        /// 生态环境分局
        EcologyEnvironment => "ECOLOGY_ENVIRONMENT",
        /// 交通运输局
        Transport => "TRANSPORT",
        /// 水利局
        WaterResources => "WATER_RESOURCES",
        /// 农业农村局
        AgricultureRural => "AGRICULTURE_RURAL",
        /// 商务局
        Commerce => "COMMERCE",
        /// 文旅局
        CultureTourism => "CULTURE_TOURISM",
        /// 卫健局
        HealthCommission => "HEALTH_COMMISSION",
        /// 退役军人事务局
        VeteransAffairs => "VETERANS_AFFAIRS",
        /// 应急管理局
        EmergencyManagement => "EMERGENCY_MANAGEMENT",
        /// 市场监管局
        MarketRegulation => "MARKET_REGULATION",
        /// 医保局
        HealthcareSecurity => "HEALTHCARE_SECURITY",
        /// 城管执法局
        UrbanManagement => "URBAN_MANAGEMENT",
        /// 教育局
        Education => "EDUCATION",
        /// 人民法院
        Court => "COURT",
        /// 人民检察院
        Procuratorate => "PROCURATORATE",
        /// 消防救援大队
        FireRescue => "FIRE_RESCUE",
        /// 税务局
        Taxation => "TAXATION",
    }
);

text_enum!(
    Gender {
        Male => "MALE",
        Female => "FEMALE",
    }
);

text_enum!(
    PlaceKind {
        /// 住宅
        Residence => "RESIDENCE",
        /// 商铺
        Shop => "SHOP",
        /// 学校
        School => "SCHOOL",
        /// 医院、卫生院
        Hospital => "HOSPITAL",
        /// 工厂
        Factory => "FACTORY",
        /// 农贸市场
        Market => "MARKET",
        /// 办公场所
        Office => "OFFICE",
        /// 公园、广场
        PublicSpace => "PUBLIC_SPACE",
        /// 农田、林地
        Farmland => "FARMLAND",
    }
);

text_enum!(
    ThingKind {
        /// 电梯
        Elevator => "ELEVATOR",
        /// 燃气罐
        GasTank => "GAS_TANK",
        /// 车辆
        Vehicle => "VEHICLE",
        /// 消防栓
        FireHydrant => "FIRE_HYDRANT",
        /// 监控探头
        Camera => "CAMERA",
        /// 锅炉
        Boiler => "BOILER",
        /// 危化品储罐
        ChemicalTank => "CHEMICAL_TANK",
    }
);

text_enum!(
    OrganizationKind {
        /// 企业
        Enterprise => "ENTERPRISE",
        /// 个体工商户
        IndividualBusiness => "INDIVIDUAL_BUSINESS",
        /// 社会组织
        SocialOrganization => "SOCIAL_ORGANIZATION",
        /// 物业公司
        PropertyManagement => "PROPERTY_MANAGEMENT",
        /// 农民专业合作社
        Cooperative => "COOPERATIVE",
        /// 学校、医院等事业单位
        PublicInstitution => "PUBLIC_INSTITUTION",
    }
);

text_enum!(
    OrganizationRole {
        /// 法定代表人
        LegalRepresentative => "LEGAL_REPRESENTATIVE",
        Manager => "MANAGER",
        Employee => "EMPLOYEE",
    }
);

text_enum!(
    /// What an event is about.
    EventCategory {
        /// 邻里纠纷
        NeighborDispute => "NEIGHBOR_DISPUTE",
        /// 婚姻家庭纠纷
        FamilyDispute => "FAMILY_DISPUTE",
        /// 劳动争议、欠薪
        LaborDispute => "LABOR_DISPUTE",
        /// 物业纠纷
        PropertyManagement => "PROPERTY_MANAGEMENT",
        /// 土地纠纷
        LandDispute => "LAND_DISPUTE",
        /// 安全隐患
        SafetyHazard => "SAFETY_HAZARD",
        /// 环境污染
        Environment => "ENVIRONMENT",
        /// 市容环卫
        CityAppearance => "CITY_APPEARANCE",
        /// 消费维权
        ConsumerRights => "CONSUMER_RIGHTS",
        /// 社会救助
        SocialAssistance => "SOCIAL_ASSISTANCE",
        /// 治安
        PublicOrder => "PUBLIC_ORDER",
        /// 道路交通
        Traffic => "TRAFFIC",
    }
);

impl EventCategory {
    /// Disputes between parties, which go window → mediation → court (诉调一体).
    pub fn is_dispute(self) -> bool {
        matches!(
            self,
            Self::NeighborDispute
                | Self::FamilyDispute
                | Self::LaborDispute
                | Self::PropertyManagement
                | Self::LandDispute
                | Self::ConsumerRights
        )
    }

    /// Its name in Chinese, as department systems write it.
    pub fn chinese(self) -> &'static str {
        match self {
            Self::NeighborDispute => "邻里纠纷",
            Self::FamilyDispute => "婚姻家庭纠纷",
            Self::LaborDispute => "劳动争议",
            Self::PropertyManagement => "物业纠纷",
            Self::LandDispute => "土地纠纷",
            Self::SafetyHazard => "安全隐患",
            Self::Environment => "环境污染",
            Self::CityAppearance => "市容环卫",
            Self::ConsumerRights => "消费维权",
            Self::SocialAssistance => "社会救助",
            Self::PublicOrder => "治安",
            Self::Traffic => "道路交通",
        }
    }
}

text_enum!(
    /// How an event reached the platform.
    EventChannel {
        /// 网格员手持终端一键上报
        GridTerminal => "GRID_TERMINAL",
        /// 12345 热线
        Hotline12345 => "HOTLINE_12345",
        /// 窗口
        Window => "WINDOW",
        /// 网上
        Online => "ONLINE",
        /// 来信来访
        LetterVisit => "LETTER_VISIT",
    }
);

text_enum!(
    Urgency {
        Low => "LOW",
        Normal => "NORMAL",
        High => "HIGH",
        Critical => "CRITICAL",
    }
);

text_enum!(
    EventStatus {
        Reported => "REPORTED",
        Accepted => "ACCEPTED",
        Dispatched => "DISPATCHED",
        InProgress => "IN_PROGRESS",
        Resolved => "RESOLVED",
        Closed => "CLOSED",
        Rejected => "REJECTED",
        Returned => "RETURNED",
        Escalated => "ESCALATED",
    }
);

text_enum!(
    /// A dispute's tier: where it is handled now (`Event.tier`) or was settled
    /// (`Event.resolutionTier`) — 一楼窗口随时解、二楼各室深入调、争取不进三楼庭.
    ResolutionTier {
        Window => "WINDOW",
        Mediation => "MEDIATION",
        Litigation => "LITIGATION",
    }
);

text_enum!(
    PartyRole {
        Applicant => "APPLICANT",
        Respondent => "RESPONDENT",
        Witness => "WITNESS",
    }
);

text_enum!(
    /// Where a department's summons stands: 报到 (report in), then act, then done.
    SummonsStatus {
        Summoned => "SUMMONED",
        ReportedIn => "REPORTED_IN",
        Acting => "ACTING",
        Done => "DONE",
        Declined => "DECLINED",
        Overdue => "OVERDUE",
    }
);

text_enum!(
    /// A person's part in the work: the five of a grid's 法官进网格 "1+4" team, or a
    /// department's officer.
    StaffRole {
        /// 法官: a judge of the county court serving the grid.
        Judge => "JUDGE",
        /// 网格长.
        GridHead => "GRID_HEAD",
        /// 人民调解员.
        Mediator => "MEDIATOR",
        /// 居民代表.
        ResidentRep => "RESIDENT_REP",
        /// 辅警.
        AuxiliaryPolice => "AUXILIARY_POLICE",
        DepartmentOfficer => "DEPARTMENT_OFFICER",
    }
);

text_enum!(
    /// What a timeline entry records; also the kind of a dispatch signal.
    TimelineKind {
        Reported => "REPORTED",
        Accepted => "ACCEPTED",
        Rejected => "REJECTED",
        Returned => "RETURNED",
        Escalated => "ESCALATED",
        Whistle => "WHISTLE",
        ReportIn => "REPORT_IN",
        Declined => "DECLINED",
        ExtensionRequested => "EXTENSION_REQUESTED",
        ExtensionDecided => "EXTENSION_DECIDED",
        Feedback => "FEEDBACK",
        Resolved => "RESOLVED",
        Evaluated => "EVALUATED",
        Reopened => "REOPENED",
        Closed => "CLOSED",
        Overdue => "OVERDUE",
        Supervision => "SUPERVISION",
        /// 催办: the supervising level urges the handler or a summoned department.
        Urged => "URGED",
        /// 交办: the event handed down to a lower level, or a person named in charge.
        Assigned => "ASSIGNED",
        /// Photos added after the report (the reporter's follow-up).
        PhotosAdded => "PHOTOS_ADDED",
        /// 诉调一体: a dispute referred to mediation (调解室).
        ReferredToMediation => "REFERRED_TO_MEDIATION",
        /// A mediation's outcome: agreement, partial or failed.
        MediationRecorded => "MEDIATION_RECORDED",
        /// A mediation agreement put to the court for judicial confirmation (司法确认).
        ConfirmationRequested => "CONFIRMATION_REQUESTED",
        /// A dispute referred to the court (立案).
        ReferredToCourt => "REFERRED_TO_COURT",
        /// A department system did what it was asked (`detail.operation`): registered,
        /// confirmed, filed, with its case number.
        Filed => "FILED",
        /// A department system refused what it was asked, with its reason.
        Refused => "REFUSED",
    }
);

text_enum!(
    /// Who mediates a dispute: 人民调解, 行业性专业性调解, 律师调解, 行政调解.
    MediationKind {
        /// 人民调解
        Peoples => "PEOPLES",
        /// 行业性、专业性调解
        Industry => "INDUSTRY",
        /// 律师调解
        Lawyer => "LAWYER",
        /// 行政调解
        Administrative => "ADMINISTRATIVE",
    }
);

text_enum!(
    /// Where a mediation stands: referred, then its outcome.
    MediationStatus {
        Referred => "REFERRED",
        /// 达成协议
        Agreement => "AGREEMENT",
        /// 部分达成协议
        Partial => "PARTIAL",
        /// 调解不成
        Failed => "FAILED",
    }
);

text_enum!(
    /// How a mediation ended.
    MediationOutcome {
        /// 达成协议
        Agreement => "AGREEMENT",
        /// 部分达成协议
        Partial => "PARTIAL",
        /// 调解不成
        Failed => "FAILED",
    }
);

impl From<MediationOutcome> for MediationStatus {
    fn from(outcome: MediationOutcome) -> Self {
        match outcome {
            MediationOutcome::Agreement => Self::Agreement,
            MediationOutcome::Partial => Self::Partial,
            MediationOutcome::Failed => Self::Failed,
        }
    }
}

text_enum!(
    /// What a department system made of something it was asked to record.
    FilingStatus {
        /// Sent (or to be sent); no answer yet.
        Pending => "PENDING",
        Filed => "FILED",
        Refused => "REFUSED",
    }
);

text_enum!(
    /// 司法确认 of a mediation agreement.
    ConfirmationStatus {
        Requested => "REQUESTED",
        Confirmed => "CONFIRMED",
        Refused => "REFUSED",
    }
);

text_enum!(
    /// Where a write into a department system stands.
    WriteStatus {
        /// Not answered yet: sent again, with the same idempotency key, until it is.
        Pending => "PENDING",
        /// Taken in; the department decides later and is asked again.
        Awaiting => "AWAITING",
        Filed => "FILED",
        Refused => "REFUSED",
    }
);

text_enum!(
    /// The four elements of the index a grid worker collects (events have their own
    /// workflow).
    ElementType {
        Person => "PERSON",
        Place => "PLACE",
        Thing => "THING",
        Organization => "ORGANIZATION",
    }
);

text_enum!(
    /// What a change did to an element.
    ElementChangeKind {
        Created => "CREATED",
        Updated => "UPDATED",
        /// A person joined an organization (on both their histories).
        MemberAdded => "MEMBER_ADDED",
        MemberRemoved => "MEMBER_REMOVED",
        /// A duplicate merged into this element: its links, events and relations follow.
        Merged => "MERGED",
        /// This element was a duplicate, merged into another; it exists no more.
        MergedInto => "MERGED_INTO",
    }
);

text_enum!(
    /// Why an element is taken for a duplicate of one being collected.
    DuplicateReason {
        /// The same 居民身份证号码: never created twice.
        SameIdNumber => "SAME_ID_NUMBER",
        /// The same 统一社会信用代码: never created twice.
        SameCreditCode => "SAME_CREDIT_CODE",
        /// A thing of the same kind with the same registration or serial number.
        SameIdentifier => "SAME_IDENTIFIER",
        /// A near-identical name and address (or home, or place).
        SimilarNameAndAddress => "SIMILAR_NAME_AND_ADDRESS",
    }
);
