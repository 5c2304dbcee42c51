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

/// (role, title, name, sub, jurisdiction, department)
const PRINCIPALS: [(&str, &str, &str, &str, &str, Option<&str>); 6] = [
    (
        "GRID_WORKER",
        "网格员",
        "张伟",
        "demo-grid-worker",
        "220422001001001",
        None,
    ),
    (
        "DISPATCHER",
        "调度员",
        "李强",
        "demo-dispatcher",
        "220422001",
        None,
    ),
    (
        "DEPARTMENT_STAFF",
        "部门工作人员",
        "王秀英",
        "demo-department-staff",
        "220422",
        Some("220422-XJ"),
    ),
    (
        "SUPERVISOR",
        "督办员",
        "刘洋",
        "demo-supervisor",
        "220422",
        None,
    ),
    (
        "ANALYST",
        "数据分析员",
        "陈静",
        "demo-analyst",
        "220400",
        None,
    ),
    ("ADMIN", "管理员", "赵敏", "demo-admin", "220400", None),
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
    for (role, title, name, sub, jurisdiction, department) in PRINCIPALS {
        let place: Option<String> =
            sqlx::query_scalar("SELECT name FROM jurisdictions WHERE code = $1")
                .bind(jurisdiction)
                .fetch_optional(pool)
                .await?;
        let claims = Claims {
            sub: sub.to_owned(),
            name: Some(name.to_owned()),
            role: role.to_owned(),
            department: department.map(str::to_owned),
            jurisdiction: jurisdiction.to_owned(),
            exp,
        };
        let at = department.unwrap_or(jurisdiction);
        tokens.push(DemoToken {
            role,
            label: format!("{title} {name} · {}", place.as_deref().unwrap_or(at)),
            token: mint(auth, &claims)?,
        });
    }
    Ok(tokens)
}
