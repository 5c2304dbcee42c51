//! Who may do what. The roles a principal can hold, the one permission table (role ×
//! operation, and what the role must hold over the object), and which personal fields a
//! role may read in clear. The workflow store consults [`permission`] for every change
//! and the resolvers consult [`Actor::sees`] for every personal field; `docs/ACCESS.md`
//! is this table in prose.

use connectors::{PersonalData, Scope};

/// The roles a token may carry, plus the gateway's own callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 网格员: reports events in its grids, revisits their reporters.
    GridWorker,
    /// 街乡/区县/市 dispatchers: handle the events at their level.
    Dispatcher,
    /// A department's staff: answer their department's summonses.
    DepartmentStaff,
    /// 督办: decide extensions for the levels below.
    Supervisor,
    /// BI and evaluation: reads figures and masked rows, never writes.
    Analyst,
    Admin,
    /// A caller without a token while authentication is explicitly off.
    Anonymous,
    /// The platform's own jobs (the deadline watcher).
    System,
    /// Requests pulled from the 12345 hotline.
    Hotline,
}

impl Role {
    /// The roles a token may name.
    pub const TOKEN_ROLES: [Role; 6] = [
        Self::GridWorker,
        Self::Dispatcher,
        Self::DepartmentStaff,
        Self::Supervisor,
        Self::Analyst,
        Self::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GridWorker => "GRID_WORKER",
            Self::Dispatcher => "DISPATCHER",
            Self::DepartmentStaff => "DEPARTMENT_STAFF",
            Self::Supervisor => "SUPERVISOR",
            Self::Analyst => "ANALYST",
            Self::Admin => "ADMIN",
            Self::Anonymous => "ANONYMOUS",
            Self::System => "SYSTEM",
            Self::Hotline => "HOTLINE",
        }
    }

    /// A role a token may carry, by name.
    pub fn from_token(name: &str) -> Option<Self> {
        Self::TOKEN_ROLES
            .into_iter()
            .find(|role| role.as_str() == name)
    }
}

/// Every operation that changes something or reads what only some may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ReportEvent,
    AcceptEvent,
    RejectEvent,
    ReturnEvent,
    EscalateEvent,
    BlowWhistle,
    ReportIn,
    DeclineSummons,
    RequestExtension,
    DecideExtension,
    SubmitFeedback,
    ResolveEvent,
    Revisit,
    CloseEvent,
    /// 交办: the event handed down to a lower level.
    AssignEvent,
    /// 催办: an event's handler or a summoned department urged.
    Urge,
    /// Resolving an event while summonses are still open, with a reason.
    ForceResolve,
    /// Photos added to an event after its report (the reporter's follow-up).
    AddEventPhotos,
    /// 诉调一体: a dispute referred to mediation, its outcome recorded, its agreement put
    /// to the court for confirmation, or the dispute referred to court.
    ReferToMediation,
    RecordMediation,
    RequestJudicialConfirmation,
    ReferToCourt,
    ReadAuditLog,
    /// 网格员信息采集: elements of the index created and updated in the grid.
    CreatePerson,
    CreatePlace,
    CreateThing,
    CreateOrganization,
    UpdatePerson,
    UpdatePlace,
    UpdateThing,
    UpdateOrganization,
    /// A person's membership of an organization.
    AddMember,
    RemoveMember,
    /// A duplicate merged into the element it duplicates.
    MergeElements,
}

impl Operation {
    pub const ALL: [Operation; 34] = [
        Self::ReportEvent,
        Self::AcceptEvent,
        Self::RejectEvent,
        Self::ReturnEvent,
        Self::EscalateEvent,
        Self::BlowWhistle,
        Self::ReportIn,
        Self::DeclineSummons,
        Self::RequestExtension,
        Self::DecideExtension,
        Self::SubmitFeedback,
        Self::ResolveEvent,
        Self::Revisit,
        Self::CloseEvent,
        Self::AssignEvent,
        Self::Urge,
        Self::ForceResolve,
        Self::AddEventPhotos,
        Self::ReferToMediation,
        Self::RecordMediation,
        Self::RequestJudicialConfirmation,
        Self::ReferToCourt,
        Self::ReadAuditLog,
        Self::CreatePerson,
        Self::CreatePlace,
        Self::CreateThing,
        Self::CreateOrganization,
        Self::UpdatePerson,
        Self::UpdatePlace,
        Self::UpdateThing,
        Self::UpdateOrganization,
        Self::AddMember,
        Self::RemoveMember,
        Self::MergeElements,
    ];

    /// The GraphQL field that runs it (also the name idempotency keys record).
    pub fn name(self) -> &'static str {
        match self {
            Self::ReportEvent => "reportEvent",
            Self::AcceptEvent => "acceptEvent",
            Self::RejectEvent => "rejectEvent",
            Self::ReturnEvent => "returnEvent",
            Self::EscalateEvent => "escalateEvent",
            Self::BlowWhistle => "blowWhistle",
            Self::ReportIn => "reportIn",
            Self::DeclineSummons => "declineSummons",
            Self::RequestExtension => "requestExtension",
            Self::DecideExtension => "decideExtension",
            Self::SubmitFeedback => "submitFeedback",
            Self::ResolveEvent => "resolveEvent",
            Self::Revisit => "revisit",
            Self::CloseEvent => "closeEvent",
            Self::AssignEvent => "assignEvent",
            Self::Urge => "urge",
            Self::ForceResolve => "resolveEvent(forceReason)",
            Self::AddEventPhotos => "addEventPhotos",
            Self::ReferToMediation => "referToMediation",
            Self::RecordMediation => "recordMediation",
            Self::RequestJudicialConfirmation => "requestJudicialConfirmation",
            Self::ReferToCourt => "referToCourt",
            Self::ReadAuditLog => "auditLog",
            Self::CreatePerson => "createPerson",
            Self::CreatePlace => "createPlace",
            Self::CreateThing => "createThing",
            Self::CreateOrganization => "createOrganization",
            Self::UpdatePerson => "updatePerson",
            Self::UpdatePlace => "updatePlace",
            Self::UpdateThing => "updateThing",
            Self::UpdateOrganization => "updateOrganization",
            Self::AddMember => "addMember",
            Self::RemoveMember => "removeMember",
            Self::MergeElements => "mergeElements",
        }
    }

    /// Whether it writes the index of elements (collection in the grid).
    pub fn collects(self) -> bool {
        matches!(
            self,
            Self::CreatePerson
                | Self::CreatePlace
                | Self::CreateThing
                | Self::CreateOrganization
                | Self::UpdatePerson
                | Self::UpdatePlace
                | Self::UpdateThing
                | Self::UpdateOrganization
                | Self::AddMember
                | Self::RemoveMember
                | Self::MergeElements
        )
    }
}

/// What a role must hold over the object of an operation it may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The object lies in the actor's jurisdiction subtree (for an event: its grid).
    Jurisdiction,
    /// The event is handled at the actor's own level (`handlingJurisdiction` is the
    /// actor's jurisdiction): once it moved up, the level below no longer acts on it.
    HandlingLevel,
    /// The event is handled at the actor's level or one below it.
    HandlingBelow,
    /// The summons is addressed to the actor's own department.
    OwnDepartment,
}

/// The permission table: what `role` must hold to run `operation`, or `None` when the
/// role may not run it at all.
pub fn permission(role: Role, operation: Operation) -> Option<Reach> {
    use Operation as Op;
    match (role, operation) {
        (Role::Admin, _) => Some(Reach::Jurisdiction),
        // With authentication off every caller may change anything, and no one may read
        // the audit log (it holds who read personal data).
        (Role::Anonymous | Role::System | Role::Hotline, Op::ReadAuditLog) => None,
        (Role::Anonymous | Role::System | Role::Hotline, _) => Some(Reach::Jurisdiction),
        (Role::GridWorker, Op::ReportEvent | Op::Revisit | Op::AddEventPhotos) => {
            Some(Reach::Jurisdiction)
        }
        // Grid workers collect in their grids; window staff register what citizens bring.
        (Role::GridWorker | Role::Dispatcher, operation) if operation.collects() => {
            Some(Reach::Jurisdiction)
        }
        // Window staff file what citizens bring in person.
        (Role::Dispatcher, Op::ReportEvent | Op::AddEventPhotos) => Some(Reach::Jurisdiction),
        (
            Role::Dispatcher,
            Op::AcceptEvent
            | Op::RejectEvent
            | Op::ReturnEvent
            | Op::EscalateEvent
            | Op::BlowWhistle
            | Op::ResolveEvent
            | Op::Revisit
            | Op::CloseEvent
            | Op::AssignEvent
            | Op::ReferToMediation
            | Op::RecordMediation
            | Op::RequestJudicialConfirmation
            | Op::ReferToCourt,
        ) => Some(Reach::HandlingLevel),
        (
            Role::DepartmentStaff,
            Op::ReportIn | Op::DeclineSummons | Op::RequestExtension | Op::SubmitFeedback,
        ) => Some(Reach::OwnDepartment),
        // The mediator (or a member of the mediating team) records the outcome and asks
        // for confirmation together with the parties.
        (Role::DepartmentStaff, Op::RecordMediation | Op::RequestJudicialConfirmation) => {
            Some(Reach::OwnDepartment)
        }
        (Role::Supervisor, Op::DecideExtension | Op::Urge | Op::ForceResolve) => {
            Some(Reach::HandlingBelow)
        }
        _ => None,
    }
}

/// Personal data a field may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalField {
    /// `Person.idNumber`.
    IdNumber,
    /// `Person.phone`.
    Phone,
    /// Personal fields of department records (`householdRegistration.idNumber`, ...).
    DepartmentRecord,
}

impl PersonalField {
    pub const ALL: [PersonalField; 3] = [Self::IdNumber, Self::Phone, Self::DepartmentRecord];
}

/// Whether `role` may read `field` in clear (when the request states a purpose).
pub fn may_unmask(role: Role, field: PersonalField) -> bool {
    use PersonalField as F;
    match role {
        Role::Admin | Role::Dispatcher | Role::DepartmentStaff => true,
        // A grid head calls citizens back; a supervisor urges the handlers.
        Role::GridWorker | Role::Supervisor => field == F::Phone,
        Role::Analyst | Role::Anonymous | Role::System | Role::Hotline => false,
    }
}

/// Who acts: the authenticated principal (or anonymous, or a system job), recorded on
/// every timeline entry it makes, with the part of the city it may see and act in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    /// The principal's stable id (the token's `sub`): idempotency keys are its own.
    pub subject: String,
    pub name: String,
    pub role: Role,
    pub department: Option<String>,
    /// The person the principal is (`staff` claim: a `Staff` id): they act on the
    /// summonses addressed to them and to their grid teams.
    pub staff: Option<i64>,
    /// The jurisdiction the principal acts at (empty: the whole city).
    pub jurisdiction: String,
    pub scope: Scope,
    /// Why personal data is read (`X-Purpose`): without one everything stays masked.
    pub purpose: Option<String>,
    /// When the principal's token expires (seconds since the epoch).
    pub expires_at: Option<i64>,
}

impl Actor {
    /// Anyone, while authentication is off: city-wide, personal data masked.
    pub fn anonymous() -> Self {
        Self::unauthenticated("anonymous", "匿名", Role::Anonymous)
    }

    /// A job of the platform's own (`Role::System`, `Role::Hotline`): city-wide.
    pub fn system(name: &str, role: Role) -> Self {
        Self::unauthenticated(&format!("system:{name}"), name, role)
    }

    fn unauthenticated(subject: &str, name: &str, role: Role) -> Self {
        Self {
            subject: subject.to_owned(),
            name: name.to_owned(),
            role,
            department: None,
            staff: None,
            jurisdiction: String::new(),
            scope: Scope::city_wide(),
            purpose: None,
            expires_at: None,
        }
    }

    /// A principal from a verified token, seeing its jurisdiction's subtree; a
    /// department's staff see only the events their department was summoned to.
    pub fn principal(
        subject: String,
        name: String,
        role: Role,
        department: Option<String>,
        jurisdiction: String,
        expires_at: i64,
    ) -> Self {
        let summoned = department.clone().filter(|_| role == Role::DepartmentStaff);
        Self {
            scope: Scope::subtree(&jurisdiction, PersonalData::Masked).summoned_to(summoned),
            subject,
            name,
            role,
            department,
            staff: None,
            jurisdiction,
            purpose: None,
            expires_at: Some(expires_at),
        }
    }

    /// The same principal as the person `staff`: they see their jurisdiction's subtree
    /// (not only their department's summonses), and act on summonses addressed to them
    /// or their teams.
    pub fn as_staff(mut self, staff: Option<i64>) -> Self {
        if staff.is_some() {
            self.staff = staff;
            self.scope = self.scope.summoned_to(None);
        }
        self
    }

    /// The same actor, reading personal data for `purpose`: fields its role may see come
    /// in clear (department records included when the role may see them), every such
    /// read audited.
    pub fn with_purpose(mut self, purpose: Option<String>) -> Self {
        self.purpose = purpose
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        let visible = self.sees(PersonalField::DepartmentRecord);
        self.scope = self.scope.with_personal_data(if visible {
            PersonalData::Visible
        } else {
            PersonalData::Masked
        });
        self
    }

    /// Whether this actor reads `field` in clear.
    pub fn sees(&self, field: PersonalField) -> bool {
        self.purpose.is_some() && may_unmask(self.role, field)
    }

    /// The reach this actor needs for `operation`, or why it may not run it.
    pub fn may(&self, operation: Operation) -> Result<Reach, String> {
        permission(self.role, operation).ok_or_else(|| {
            format!(
                "the role {} may not run {}",
                self.role.as_str(),
                operation.name()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysts_never_write_and_only_admins_read_the_audit_log() {
        for operation in Operation::ALL {
            assert_eq!(permission(Role::Analyst, operation), None, "{operation:?}");
            let audit = operation == Operation::ReadAuditLog;
            for role in Role::TOKEN_ROLES {
                if audit && role != Role::Admin {
                    assert_eq!(permission(role, operation), None, "{role:?}");
                }
            }
        }
    }

    #[test]
    fn personal_data_needs_a_role_that_may_see_it_and_a_purpose() {
        let dispatcher = Actor::principal(
            "d-1".into(),
            "李强".into(),
            Role::Dispatcher,
            None,
            "220422".into(),
            0,
        );
        assert!(!dispatcher.sees(PersonalField::Phone));
        assert_eq!(dispatcher.scope.personal_data(), PersonalData::Masked);
        let stated = dispatcher.with_purpose(Some("回访核实".into()));
        assert!(stated.sees(PersonalField::Phone));
        assert_eq!(stated.scope.personal_data(), PersonalData::Visible);
        let blank = stated.with_purpose(Some("  ".into()));
        assert!(!blank.sees(PersonalField::IdNumber));
        let analyst = Actor {
            role: Role::Analyst,
            ..Actor::anonymous()
        }
        .with_purpose(Some("统计".into()));
        assert!(PersonalField::ALL.iter().all(|f| !analyst.sees(*f)));
    }
}
