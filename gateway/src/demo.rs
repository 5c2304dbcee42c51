//! What the demo hands its users: a signing secret of its own when none is configured,
//! and a ready-made token for each role, held by principals of the seeded city (东辽县's
//! first grid, its township, the county's fire brigade, the city).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sqlx::PgPool;

use crate::auth::{AuthConfig, Claims, MintError, mint};

/// How long the demo's tokens last.
pub const TOKEN_TTL_S: i64 = 8 * 3600;

/// A token the demo prints and offers in GraphiQL's role picker.
#[derive(Debug, Clone, Serialize)]
pub struct DemoToken {
    pub role: &'static str,
    /// Who holds it, for people: 「调度员 李强 · 白泉镇」.
    pub label: String,
    pub token: String,
}

/// A principal of the seeded city the demo makes a token for.
struct Principal {
    role: &'static str,
    /// What the role is called, for people.
    title: &'static str,
    name: &'static str,
    sub: &'static str,
    jurisdiction: &'static str,
    department: Option<&'static str>,
}

const PRINCIPALS: [Principal; 6] = [
    Principal {
        role: "GRID_WORKER",
        title: "网格员",
        name: "张伟",
        sub: "demo-grid-worker",
        jurisdiction: "220422001001001",
        department: None,
    },
    Principal {
        role: "DISPATCHER",
        title: "调度员",
        name: "李强",
        sub: "demo-dispatcher",
        jurisdiction: "220422001",
        department: None,
    },
    Principal {
        role: "DEPARTMENT_STAFF",
        title: "部门工作人员",
        name: "王秀英",
        sub: "demo-department-staff",
        jurisdiction: "220422",
        department: Some("220422-XJ"),
    },
    Principal {
        role: "SUPERVISOR",
        title: "督办员",
        name: "刘洋",
        sub: "demo-supervisor",
        jurisdiction: "220422",
        department: None,
    },
    Principal {
        role: "ANALYST",
        title: "数据分析员",
        name: "陈静",
        sub: "demo-analyst",
        jurisdiction: "220400",
        department: None,
    },
    Principal {
        role: "ADMIN",
        title: "管理员",
        name: "赵敏",
        sub: "demo-admin",
        jurisdiction: "220400",
        department: None,
    },
];

/// A random HS256 secret (48 random bytes, base64url).
pub fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[derive(Debug, thiserror::Error)]
pub enum DemoTokenError {
    #[error(transparent)]
    Mint(#[from] MintError),
    #[error("reading the seeded jurisdictions failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// A token for each role, signed with the configured secret.
pub async fn tokens(pool: &PgPool, auth: &AuthConfig) -> Result<Vec<DemoToken>, DemoTokenError> {
    let exp = chrono::Utc::now().timestamp() + TOKEN_TTL_S;
    let mut tokens = Vec::with_capacity(PRINCIPALS.len());
    for principal in &PRINCIPALS {
        let place: Option<String> =
            sqlx::query_scalar("SELECT name FROM jurisdictions WHERE code = $1")
                .bind(principal.jurisdiction)
                .fetch_optional(pool)
                .await?;
        let claims = Claims {
            sub: principal.sub.to_owned(),
            name: Some(principal.name.to_owned()),
            role: principal.role.to_owned(),
            department: principal.department.map(str::to_owned),
            jurisdiction: principal.jurisdiction.to_owned(),
            exp,
        };
        let at = place.as_deref().unwrap_or(principal.jurisdiction);
        tokens.push(DemoToken {
            role: principal.role,
            label: format!("{} {} · {at}", principal.title, principal.name),
            token: mint(auth, &claims)?,
        });
    }
    Ok(tokens)
}
