//! Who is calling: a JWT principal (role, department, jurisdiction) turned into the
//! actor a request acts as — its scope, and the name its changes are recorded under — in
//! one place. Tokens are
//! HS256, signed with the secret shared with the city's identity provider; they travel in
//! the `Authorization: Bearer` header, or in a WebSocket `connection_init` payload.
//! Without a configured secret authentication is off: every caller is anonymous,
//! city-wide, with personal data masked.

use std::fmt;
use std::path::PathBuf;

use axum::http::{HeaderMap, header};
use schema::access::{Actor, Role};
use serde::Deserialize;

mod keys;

pub use keys::{Keys, KeysError};

/// The shortest HS256 secret accepted: the hash's own length.
pub const MIN_SECRET_BYTES: usize = 32;

/// The header a caller states its purpose in, to read personal data in clear.
pub const PURPOSE_HEADER: &str = "x-purpose";

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The HS256 secret (`GATEWAY_JWT_SECRET`), shared with the identity provider and used
    /// by `gateway token`.
    pub jwt_secret: SigningSecret,
    /// A JWKS file of public keys (RS256, ES256, EdDSA), read again when it changes.
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL of public keys, fetched at start and refreshed.
    pub jwks_url: Option<String>,
    /// How often the JWKS is read again, in seconds.
    pub jwks_refresh_s: u64,
    /// A token naming an unknown `kid` makes the JWKS be read again, at most this often
    /// (seconds).
    pub jwks_min_refresh_s: u64,
    /// When set, tokens must carry this `iss`.
    pub issuer: Option<String>,
    /// When set, tokens must carry this `aud`.
    pub audience: Option<String>,
    /// Refuse callers that present no token. Serving with no key at all needs
    /// `required = false`, said explicitly: every caller is then anonymous.
    pub required: bool,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_s: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: SigningSecret::default(),
            jwks_file: None,
            jwks_url: None,
            jwks_refresh_s: 300,
            jwks_min_refresh_s: 10,
            issuer: None,
            audience: None,
            required: true,
            leeway_s: 30,
        }
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("jwt_secret", &self.jwt_secret)
            .field("jwks_file", &self.jwks_file)
            .field("jwks_url", &self.jwks_url)
            .field("jwks_refresh_s", &self.jwks_refresh_s)
            .field("jwks_min_refresh_s", &self.jwks_min_refresh_s)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("required", &self.required)
            .field("leeway_s", &self.leeway_s)
            .finish()
    }
}

/// A signing secret: never printed.
#[derive(Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct SigningSecret(pub String);

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "<unset>" } else { "***" })
    }
}

/// The claims a token carries.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    /// The person's name, for the timeline; `sub` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: String,
    /// The department the person works for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The jurisdiction code the person acts in: their scope is its subtree.
    pub jurisdiction: String,
    /// The person's `Staff` id (a grid team's member, a department's officer): they act
    /// on summonses addressed to them or their teams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<i64>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
}

/// Why a caller is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("credentials must be `Bearer <token>`")]
    NotBearer,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token's claims are not usable: {0}")]
    Claims(String),
}

pub struct Authenticator {
    keys: Keys,
    required: bool,
}

impl Authenticator {
    /// The authenticator of `config`, its keys loaded (a JWKS read or fetched).
    pub async fn new(config: &AuthConfig) -> Result<Self, KeysError> {
        Ok(Self {
            keys: Keys::load(config).await?,
            required: config.required,
        })
    }

    /// Whether tokens are checked at all.
    pub fn enabled(&self) -> bool {
        self.keys.any()
    }

    /// The caller of an HTTP request, from its `Authorization` header, with the purpose
    /// its `X-Purpose` header states.
    pub async fn from_headers(&self, headers: &HeaderMap) -> Result<Actor, AuthError> {
        let credentials = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| AuthError::NotBearer)?),
        };
        let purpose = headers
            .get(PURPOSE_HEADER)
            .and_then(|value| purpose_text(value.as_bytes()));
        Ok(self.caller(credentials).await?.with_purpose(purpose))
    }

    /// The caller of a WebSocket connection: the `connection_init` payload's
    /// `Authorization` (or `authorization`, or a bare `token`), else the upgrade
    /// request's `Authorization` header; its purpose from the payload's `purpose` (or
    /// `X-Purpose`).
    pub async fn from_init_payload(
        &self,
        payload: &serde_json::Value,
        upgrade_header: Option<&str>,
    ) -> Result<Actor, AuthError> {
        let field = |name: &str| payload.get(name).and_then(serde_json::Value::as_str);
        let purpose = field("purpose")
            .or_else(|| field("X-Purpose"))
            .or_else(|| field("x-purpose"))
            .map(str::to_owned);
        let caller = match field("token") {
            Some(token) => self.verify(token).await?,
            None => {
                self.caller(
                    field("Authorization")
                        .or_else(|| field("authorization"))
                        .or(upgrade_header),
                )
                .await?
            }
        };
        Ok(caller.with_purpose(purpose))
    }

    /// The caller presenting `credentials` (`Bearer <token>`), or none.
    async fn caller(&self, credentials: Option<&str>) -> Result<Actor, AuthError> {
        if !self.keys.any() {
            return Ok(Actor::anonymous());
        }
        match credentials {
            None if self.required => Err(AuthError::Missing),
            None => Ok(Actor::anonymous()),
            Some(credentials) => {
                let (scheme, token) = credentials
                    .trim()
                    .split_once(' ')
                    .ok_or(AuthError::NotBearer)?;
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return Err(AuthError::NotBearer);
                }
                self.verify(token.trim()).await
            }
        }
    }

    async fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        if !self.keys.any() {
            return Ok(Actor::anonymous());
        }
        principal(self.keys.verify(token).await?)
    }
}

/// The actor a verified token's claims make.
fn principal(claims: Claims) -> Result<Actor, AuthError> {
    let role = Role::from_token(&claims.role).ok_or_else(|| {
        let roles: Vec<&str> = Role::TOKEN_ROLES.iter().map(|r| r.as_str()).collect();
        AuthError::Claims(format!(
            "unknown role `{}`; one of {}",
            claims.role,
            roles.join(", ")
        ))
    })?;
    if !is_jurisdiction_code(&claims.jurisdiction) {
        return Err(AuthError::Claims(format!(
            "`jurisdiction` is not a jurisdiction code: `{}`",
            claims.jurisdiction
        )));
    }
    if role == Role::DepartmentStaff && claims.department.is_none() && claims.staff.is_none() {
        return Err(AuthError::Claims(
            "a DEPARTMENT_STAFF token must name its `department` or its `staff` id".to_owned(),
        ));
    }
    Ok(Actor::principal(
        claims.sub.clone(),
        claims.name.unwrap_or(claims.sub),
        role,
        claims.department,
        claims.jurisdiction,
        claims.exp,
    )
    .as_staff(claims.staff))
}

/// A purpose as a header carries it: UTF-8 text, percent-encoded or not (browsers can
/// send only Latin-1 in headers, so pages encode it with `encodeURIComponent`).
fn purpose_text(bytes: &[u8]) -> Option<String> {
    let decoded = percent_encoding::percent_decode(bytes).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

/// Why a token cannot be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error(
        "minting needs the HS256 secret: set auth.jwt_secret or GATEWAY_JWT_SECRET \
         (public-key issuers mint their own tokens)"
    )]
    NoSecret,
    #[error("{0}")]
    Claims(String),
    #[error("the token could not be encoded: {0}")]
    Encode(String),
}

/// What a minted token carries besides the principal's claims.
#[derive(serde::Serialize)]
struct Minted<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// An HS256 token for `claims`, signed with the configured secret and carrying the
/// configured issuer and audience, so that this gateway accepts it.
pub fn mint(config: &AuthConfig, claims: &Claims) -> Result<String, MintError> {
    if config.jwt_secret.0.is_empty() {
        return Err(MintError::NoSecret);
    }
    principal(claims.clone()).map_err(|error| MintError::Claims(error.to_string()))?;
    let minted = Minted {
        claims,
        iat: chrono::Utc::now().timestamp(),
        iss: config.issuer.as_deref(),
        aud: config.audience.as_deref(),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &minted,
        &jsonwebtoken::EncodingKey::from_secret(config.jwt_secret.0.as_bytes()),
    )
    .map_err(|error| MintError::Encode(error.to_string()))
}

/// City, county, township, village or grid: 6, 9, 12 or 15 digits.
fn is_jurisdiction_code(code: &str) -> bool {
    matches!(code.len(), 6 | 9 | 12 | 15) && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    async fn authenticator(required: bool) -> Authenticator {
        Authenticator::new(&AuthConfig {
            jwt_secret: SigningSecret(SECRET.to_owned()),
            required,
            ..AuthConfig::default()
        })
        .await
        .expect("an HS256 secret loads")
    }

    fn token(claims: serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap_or_default()
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn claims() -> serde_json::Value {
        json!({ "sub": "u-1", "name": "王秀英", "role": "DEPARTMENT_STAFF",
                "department": "220422-XJ", "jurisdiction": "220422", "exp": now() + 600 })
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = format!("Bearer {token}").parse() {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[tokio::test]
    async fn a_valid_token_gives_the_principals_scope_and_actor() {
        let claims = claims();
        let exp = claims["exp"].as_i64().unwrap_or_default();
        let actor = authenticator(true)
            .await
            .from_headers(&bearer(&token(claims, SECRET)))
            .await
            .map_err(|e| e.to_string());
        assert_eq!(
            actor,
            Ok(Actor::principal(
                "u-1".to_owned(),
                "王秀英".to_owned(),
                Role::DepartmentStaff,
                Some("220422-XJ".to_owned()),
                "220422".to_owned(),
                exp,
            ))
        );
    }

    #[tokio::test]
    async fn bad_tokens_are_refused_with_the_reason() {
        let auth = authenticator(false).await;
        let refused = async |headers: HeaderMap| auth.from_headers(&headers).await.err();
        assert!(matches!(
            refused(bearer(&token(
                claims(),
                "another-secret-of-thirty-two-bytes!"
            )))
            .await,
            Some(AuthError::Invalid(_))
        ));
        let mut expired = claims();
        expired["exp"] = json!(now() - 3_600);
        assert!(matches!(
            refused(bearer(&token(expired, SECRET))).await,
            Some(AuthError::Invalid(_))
        ));
        let mut early = claims();
        early["nbf"] = json!(now() + 3_600);
        assert!(matches!(
            refused(bearer(&token(early, SECRET))).await,
            Some(AuthError::Invalid(_))
        ));
        let mut role = claims();
        role["role"] = json!("EMPEROR");
        assert!(matches!(
            refused(bearer(&token(role, SECRET))).await,
            Some(AuthError::Claims(_))
        ));
        let mut place = claims();
        place["jurisdiction"] = json!("东辽县");
        assert!(matches!(
            refused(bearer(&token(place, SECRET))).await,
            Some(AuthError::Claims(_))
        ));
        let mut basic = HeaderMap::new();
        basic.insert(
            header::AUTHORIZATION,
            axum::http::HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        );
        assert_eq!(refused(basic).await, Some(AuthError::NotBearer));
    }

    #[tokio::test]
    async fn no_token_is_anonymous_unless_one_is_required() {
        let anonymous = authenticator(false)
            .await
            .from_headers(&HeaderMap::new())
            .await;
        assert_eq!(anonymous.map_err(|e| e.to_string()), Ok(Actor::anonymous()));
        assert_eq!(
            authenticator(true)
                .await
                .from_headers(&HeaderMap::new())
                .await
                .err(),
            Some(AuthError::Missing)
        );
    }

    #[tokio::test]
    async fn websocket_clients_authenticate_in_connection_init() {
        let auth = authenticator(true).await;
        let good = token(claims(), SECRET);
        for payload in [
            json!({ "Authorization": format!("Bearer {good}") }),
            json!({ "authorization": format!("bearer {good}") }),
            json!({ "token": good }),
        ] {
            let caller = auth.from_init_payload(&payload, None).await;
            assert_eq!(
                caller.map(|actor| actor.name).map_err(|e| e.to_string()),
                Ok("王秀英".to_owned()),
                "{payload}"
            );
        }
        assert_eq!(
            auth.from_init_payload(&json!({}), None).await.err(),
            Some(AuthError::Missing)
        );
        assert!(
            auth.from_init_payload(&json!({}), Some(&format!("Bearer {good}")))
                .await
                .is_ok(),
            "the upgrade request's header is the fallback"
        );
    }

    #[tokio::test]
    async fn without_a_secret_everyone_is_anonymous_and_city_wide() {
        let off = Authenticator::new(&AuthConfig::default())
            .await
            .expect("no keys is a valid configuration");
        assert!(!off.enabled());
        let caller = off.from_headers(&bearer("not-even-a-token")).await;
        assert_eq!(
            caller
                .map(|c| c.scope.prefix().to_owned())
                .map_err(|e| e.to_string()),
            Ok(String::new())
        );
    }
}
