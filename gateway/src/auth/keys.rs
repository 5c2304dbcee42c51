//! The keys tokens are checked with: the HS256 secret, and public keys (RS256, ES256,
//! EdDSA) from a JWKS file or URL, rotated without a restart. The header's `alg` picks the
//! family, its `kid` the key; `iss`, `aud`, `exp`, `nbf` are checked here.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lru::LruCache;
use serde::Deserialize;

use super::{AuthConfig, AuthError, Claims};

// Beside this file rather than under `keys/`, as the auth module's other parts are.
#[path = "jwks.rs"]
mod jwks;

use jwks::{Jwks, JwksError, Source};

/// The algorithms tokens may be signed with.
const ACCEPTED: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// Why the configured keys cannot be used: the gateway does not start.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("auth.jwks_file and auth.jwks_url are both set; configure one JWKS source")]
    TwoJwksSources,
    #[error("cannot use the JWKS {origin}: {reason}")]
    Jwks { origin: String, reason: JwksError },
}

pub struct Keys {
    /// The HS256 secret, when configured: the only key HS256 tokens are checked with.
    secret: Option<DecodingKey>,
    /// The public keys, when a JWKS is configured: the only keys for the other algorithms.
    jwks: Option<Jwks>,
    /// One per accepted algorithm: jsonwebtoken checks the header's `alg` against it.
    validations: HashMap<Algorithm, Validation>,
    leeway_s: i64,
    verified: Verified,
}

/// Tokens verified lately, by their text, with their claims and the JWKS generation
/// they were verified under. A client sends the same token with every request; seen
/// again, it is not verified again (signature, header, registered claims) unless it has
/// expired since or the JWKS has been read again (a key may have been removed).
struct Verified(Mutex<LruCache<Box<str>, (Claims, u64)>>);

/// How many tokens are kept: a few MiB at most.
const VERIFIED_TOKENS: usize = 4_096;

impl Verified {
    fn new() -> Self {
        let capacity = NonZeroUsize::new(VERIFIED_TOKENS).unwrap_or(NonZeroUsize::MIN);
        Self(Mutex::new(LruCache::new(capacity)))
    }

    fn get(&self, token: &str, generation: u64) -> Option<Claims> {
        let mut tokens = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match tokens.get(token) {
            Some((claims, verified_under)) if *verified_under == generation => Some(claims.clone()),
            _ => None,
        }
    }

    fn put(&self, token: &str, claims: &Claims, generation: u64) {
        let mut tokens = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tokens.put(token.into(), (claims.clone(), generation));
    }
}

impl Keys {
    /// The keys of `config`; a JWKS that cannot be read or fetched, or holds no usable
    /// key, is an error here, at start-up.
    pub async fn load(config: &AuthConfig) -> Result<Self, KeysError> {
        let secret = (!config.jwt_secret.0.is_empty())
            .then(|| DecodingKey::from_secret(config.jwt_secret.0.as_bytes()));
        let jwks = match source(config)? {
            None => None,
            Some(source) => {
                let origin = source.to_string();
                let refresh = Duration::from_secs(config.jwks_refresh_s);
                let min_refresh = Duration::from_secs(config.jwks_min_refresh_s);
                let jwks = Jwks::load(source, refresh, min_refresh)
                    .await
                    .map_err(|reason| KeysError::Jwks { origin, reason })?;
                Some(jwks)
            }
        };
        let validations = ACCEPTED
            .iter()
            .map(|&alg| (alg, validation(config, alg)))
            .collect();
        Ok(Self {
            secret,
            jwks,
            validations,
            leeway_s: i64::try_from(config.leeway_s).unwrap_or(i64::MAX),
            verified: Verified::new(),
        })
    }

    /// Whether any key is configured (otherwise authentication is off).
    pub fn any(&self) -> bool {
        self.secret.is_some() || self.jwks.is_some()
    }

    /// Whether tokens can be minted here: only with the HS256 secret.
    pub fn can_mint(&self) -> bool {
        self.secret.is_some()
    }

    /// The claims of a token signed by one of the keys, its registered claims checked.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let generation = match &self.jwks {
            Some(jwks) => jwks.generation().await,
            None => 0,
        };
        let claims = match self.verified.get(token, generation) {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signed(token).await?;
                self.verified.put(token, &claims, generation);
                claims
            }
        };
        // As jsonwebtoken checks it, for a token verified earlier too.
        if claims.exp < jsonwebtoken::get_current_timestamp() as i64 - self.leeway_s {
            return Err(AuthError::Invalid(describe(
                &ErrorKind::ExpiredSignature.into(),
            )));
        }
        Ok(claims)
    }

    async fn verify_signed(&self, token: &str) -> Result<Claims, AuthError> {
        let header = TokenHeader::read(token)?;
        let alg = accepted(&header.alg)?;
        let validation = self
            .validations
            .get(&alg)
            .ok_or_else(|| not_accepted(&header.alg))?;
        let decoded = if alg == Algorithm::HS256 {
            // The secret and nothing else, whatever the kid says: a public key (its PEM,
            // its n) can never serve as an HMAC secret.
            let secret = self.secret.as_ref().ok_or_else(|| {
                AuthError::Invalid("HS256 tokens are not accepted: no secret is set".to_owned())
            })?;
            jsonwebtoken::decode::<Claims>(token, secret, validation)
        } else {
            let jwks = self.jwks.as_ref().ok_or_else(|| {
                AuthError::Invalid(format!("{alg:?} tokens are not accepted: no JWKS is set"))
            })?;
            let key = jwks
                .key(alg, header.kid.as_deref())
                .await
                .map_err(|refusal| AuthError::Invalid(refusal.to_string()))?;
            jsonwebtoken::decode::<Claims>(token, &key, validation)
        };
        decoded
            .map(|data| data.claims)
            .map_err(|error| AuthError::Invalid(describe(&error)))
    }
}

/// The JWKS source configured, if any.
fn source(config: &AuthConfig) -> Result<Option<Source>, KeysError> {
    match (&config.jwks_file, &config.jwks_url) {
        (Some(_), Some(_)) => Err(KeysError::TwoJwksSources),
        (Some(path), None) => Ok(Some(Source::File(path.clone()))),
        (None, Some(url)) => Source::url(url)
            .map(Some)
            .map_err(|reason| KeysError::Jwks {
                origin: format!("URL `{url}`"),
                reason,
            }),
        (None, None) => Ok(None),
    }
}

/// The checks of tokens signed with `alg`. A configured issuer or audience must also be
/// present: jsonwebtoken only compares them when the token carries them.
fn validation(config: &AuthConfig, alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.validate_nbf = true;
    validation.leeway = config.leeway_s;
    let mut required = vec!["exp", "sub"];
    if let Some(issuer) = &config.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &config.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

/// The header members that pick the key. Read before jsonwebtoken reads the token so
/// that `alg: none` and algorithms it does not know get a clear refusal.
#[derive(Deserialize)]
struct TokenHeader {
    alg: String,
    kid: Option<String>,
    /// Extensions the token requires to be understood: none is.
    crit: Option<serde_json::Value>,
}

impl TokenHeader {
    fn read(token: &str) -> Result<Self, AuthError> {
        let encoded = token.split_once('.').map_or(token, |(header, _)| header);
        let json = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| AuthError::Invalid("the header is not base64url".to_owned()))?;
        let header: Self = serde_json::from_slice(&json)
            .map_err(|error| AuthError::Invalid(format!("the header is not readable: {error}")))?;
        if header.crit.is_some() {
            return Err(AuthError::Invalid(
                "the header's `crit` extensions are not supported".to_owned(),
            ));
        }
        Ok(header)
    }
}

/// The algorithm named `name`, if tokens may be signed with it.
fn accepted(name: &str) -> Result<Algorithm, AuthError> {
    if name.eq_ignore_ascii_case("none") {
        return Err(AuthError::Invalid(
            "unsigned tokens (`alg: none`) are refused".to_owned(),
        ));
    }
    name.parse::<Algorithm>()
        .ok()
        .filter(|alg| ACCEPTED.contains(alg))
        .ok_or_else(|| not_accepted(name))
}

fn not_accepted(name: &str) -> AuthError {
    AuthError::Invalid(format!(
        "algorithm `{name}` is not accepted; one of HS256, RS256, ES256, EdDSA"
    ))
}

/// Why jsonwebtoken refused a token, in words a caller can act on.
fn describe(error: &jsonwebtoken::errors::Error) -> String {
    match error.kind() {
        ErrorKind::InvalidSignature => "the signature does not match".to_owned(),
        ErrorKind::ExpiredSignature => "the token has expired (`exp`)".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (`nbf`)".to_owned(),
        ErrorKind::InvalidIssuer => "the issuer (`iss`) is not the expected one".to_owned(),
        ErrorKind::InvalidAudience => "the audience (`aud`) is not this gateway".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the `{claim}` claim is missing"),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use base64::engine::general_purpose::STANDARD;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};

    use super::*;
    use crate::auth::SigningSecret;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const ISSUER: &str = "https://sso.example.test";
    const AUDIENCE: &str = "governance-gateway";
    const JWKS: &str = include_str!("../../tests/fixtures/keys/jwks.json");
    const JWKS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/jwks.json");
    const RSA_1: &str = include_str!("../../tests/fixtures/keys/rsa-1.pem");
    const RSA_1_PUBLIC: &str = include_str!("../../tests/fixtures/keys/rsa-1.pub.pem");
    const RSA_2: &str = include_str!("../../tests/fixtures/keys/rsa-2.pem");
    const EC_1: &str = include_str!("../../tests/fixtures/keys/ec-1.pem");
    const ED_1: &str = include_str!("../../tests/fixtures/keys/ed-1.pem");

    /// The DER a PEM fixture armours: jsonwebtoken is built without `use_pem`, and its
    /// signers take DER (PKCS#1 for RSA, PKCS#8 for the others), as the fixtures hold.
    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        STANDARD.decode(body).expect("a fixture PEM holds base64")
    }

    /// The algorithm and private key of the fixture key `kid`.
    fn signer(kid: &str) -> (Algorithm, EncodingKey) {
        match kid {
            "rsa-1" => (Algorithm::RS256, EncodingKey::from_rsa_der(&der(RSA_1))),
            "rsa-2" => (Algorithm::RS256, EncodingKey::from_rsa_der(&der(RSA_2))),
            "ec-1" => (Algorithm::ES256, EncodingKey::from_ec_der(&der(EC_1))),
            "ed-1" => (Algorithm::EdDSA, EncodingKey::from_ed_der(&der(ED_1))),
            other => panic!("no fixture key `{other}`"),
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn claims() -> Value {
        json!({ "sub": "u-1", "role": "GRID_WORKER", "jurisdiction": "220422",
                "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600 })
    }

    /// The test claims with `member` set to `value`.
    fn with(member: &str, value: Value) -> Value {
        let mut claims = claims();
        claims[member] = value;
        claims
    }

    /// The test claims without `member`.
    fn without(member: &str) -> Value {
        let mut claims = claims();
        if let Some(members) = claims.as_object_mut() {
            members.remove(member);
        }
        claims
    }

    /// A token signed with fixture key `signed_by`, its header naming `kid`.
    fn token_as(signed_by: &str, kid: Option<&str>, claims: &Value) -> String {
        let (alg, key) = signer(signed_by);
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).expect("fixture keys sign")
    }

    /// A token signed with fixture key `kid`, naming it.
    fn token(kid: &str, claims: &Value) -> String {
        token_as(kid, Some(kid), claims)
    }

    fn hs256(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret))
            .expect("HMAC signs with any secret")
    }

    /// The fixture set, with only the keys `kids`.
    fn jwks_of(kids: &[&str]) -> String {
        let mut set: Value = serde_json::from_str(JWKS).expect("the fixture JWKS is JSON");
        if let Some(keys) = set["keys"].as_array_mut() {
            keys.retain(|key| kids.contains(&key["kid"].as_str().unwrap_or_default()));
        }
        set.to_string()
    }

    /// The JWK member `member` of fixture key `kid`.
    fn jwk_member(kid: &str, member: &str) -> String {
        let set: Value = serde_json::from_str(JWKS).expect("the fixture JWKS is JSON");
        set["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|key| key["kid"] == kid))
            .and_then(|key| key[member].as_str())
            .map(str::to_owned)
            .expect("the fixture key has the member")
    }

    /// The secret, issuer and audience of these tests, and no JWKS.
    fn config() -> AuthConfig {
        AuthConfig {
            jwt_secret: SigningSecret(SECRET.to_owned()),
            issuer: Some(ISSUER.to_owned()),
            audience: Some(AUDIENCE.to_owned()),
            ..AuthConfig::default()
        }
    }

    /// The secret and the whole fixture JWKS.
    async fn keys() -> Keys {
        Keys::load(&AuthConfig {
            jwks_file: Some(PathBuf::from(JWKS_PATH)),
            ..config()
        })
        .await
        .expect("the fixture JWKS loads")
    }

    /// The subject of an accepted token, or why it was refused.
    async fn outcome(keys: &Keys, token: &str) -> Result<String, String> {
        keys.verify(token)
            .await
            .map(|claims| claims.sub)
            .map_err(|error| error.to_string())
    }

    fn assert_refused(outcome: Result<String, String>, reason: &str) {
        match outcome {
            Err(refusal) => assert!(refusal.contains(reason), "`{refusal}` lacks `{reason}`"),
            Ok(sub) => panic!("accepted (sub `{sub}`), expected a refusal for `{reason}`"),
        }
    }

    /// A JWKS file in the temporary directory, removed when dropped.
    struct JwksFile(PathBuf);

    impl JwksFile {
        fn new(test: &str, contents: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_nanos())
                .unwrap_or_default();
            let path = std::env::temp_dir().join(format!(
                "gateway-jwks-{test}-{}-{nanos}.json",
                std::process::id()
            ));
            let file = Self(path);
            file.write(contents);
            file
        }

        fn write(&self, contents: &str) {
            std::fs::write(&self.0, contents).expect("the temporary directory is writable");
        }

        async fn keys(&self, refresh_s: u64, min_refresh_s: u64) -> Keys {
            Keys::load(&AuthConfig {
                jwks_file: Some(self.0.clone()),
                jwks_refresh_s: refresh_s,
                jwks_min_refresh_s: min_refresh_s,
                ..config()
            })
            .await
            .expect("the JWKS file loads")
        }
    }

    impl Drop for JwksFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Serves `body` as a JWKS on 127.0.0.1, each answer `delay` late; its URL and a
    /// count of the fetches.
    async fn serve_jwks(body: String, delay: Duration) -> (String, Arc<AtomicUsize>) {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&fetches);
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let body = body.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port is free");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{address}/jwks.json"), fetches)
    }

    #[tokio::test]
    async fn rs256_es256_and_eddsa_tokens_of_the_jwks_are_accepted() {
        let keys = keys().await;
        for kid in ["rsa-1", "rsa-2", "ec-1", "ed-1"] {
            assert_eq!(
                outcome(&keys, &token(kid, &claims())).await,
                Ok("u-1".to_owned()),
                "{kid}"
            );
        }
    }

    #[tokio::test]
    async fn hs256_still_works_beside_a_jwks() {
        let keys = keys().await;
        assert!(keys.any() && keys.can_mint());
        let good = hs256(SECRET.as_bytes(), None, &claims());
        assert_eq!(outcome(&keys, &good).await, Ok("u-1".to_owned()));
        let other = hs256(b"another-secret-of-thirty-two-bytes!", None, &claims());
        assert_refused(outcome(&keys, &other).await, "signature");
    }

    #[tokio::test]
    async fn any_and_can_mint_follow_the_configured_keys() {
        let none = Keys::load(&AuthConfig::default())
            .await
            .expect("no keys loads");
        assert!(!none.any() && !none.can_mint());
        let public_only = Keys::load(&AuthConfig {
            jwks_file: Some(PathBuf::from(JWKS_PATH)),
            ..AuthConfig::default()
        })
        .await
        .expect("the fixture JWKS loads");
        assert!(public_only.any() && !public_only.can_mint());
        assert_refused(
            outcome(&public_only, &hs256(SECRET.as_bytes(), None, &claims())).await,
            "no secret",
        );
        let secret_only = Keys::load(&config()).await.expect("a secret loads");
        assert_refused(
            outcome(&secret_only, &token("rsa-1", &claims())).await,
            "no JWKS",
        );
    }

    #[tokio::test]
    async fn bad_signatures_and_claims_are_refused() {
        let keys = keys().await;
        // Another RSA key's signature under `rsa-1`.
        let forged = token_as("rsa-2", Some("rsa-1"), &claims());
        assert_refused(outcome(&keys, &forged).await, "signature does not match");
        for kid in ["rsa-1", "ec-1", "ed-1"] {
            // Richer claims under a genuine signature.
            let genuine = token(kid, &claims());
            let payload = URL_SAFE_NO_PAD.encode(with("role", json!("ADMIN")).to_string());
            let mut tampered: Vec<&str> = genuine.split('.').collect();
            tampered[1] = &payload;
            assert_refused(
                outcome(&keys, &tampered.join(".")).await,
                "signature does not match",
            );
            for (claims, reason) in [
                (with("exp", json!(now() - 3_600)), "expired"),
                (with("nbf", json!(now() + 3_600)), "not valid yet"),
                (with("iss", json!("https://sso.evil.test")), "issuer"),
                (with("aud", json!("another-service")), "audience"),
                (without("iss"), "the `iss` claim is missing"),
                (without("aud"), "the `aud` claim is missing"),
                (without("sub"), "`sub`"),
            ] {
                assert_refused(outcome(&keys, &token(kid, &claims)).await, reason);
            }
        }
    }

    #[tokio::test]
    async fn an_unknown_kid_is_refused() {
        let keys = keys().await;
        let unknown = token_as("rsa-1", Some("rsa-9"), &claims());
        assert_refused(
            outcome(&keys, &unknown).await,
            "no key has the token's kid `rsa-9`",
        );
    }

    #[tokio::test]
    async fn a_key_serves_only_its_own_algorithm() {
        let keys = keys().await;
        // An EC signature under an RSA kid, and the other way round.
        assert_refused(
            outcome(&keys, &token_as("ec-1", Some("rsa-1"), &claims())).await,
            "key `rsa-1` is for RS256, not for the token's ES256",
        );
        assert_refused(
            outcome(&keys, &token_as("rsa-1", Some("ed-1"), &claims())).await,
            "key `ed-1` is for EdDSA",
        );
        // Without a kid, the one key of the algorithm, if there is exactly one.
        assert_eq!(
            outcome(&keys, &token_as("ec-1", None, &claims())).await,
            Ok("u-1".to_owned())
        );
        assert_refused(
            outcome(&keys, &token_as("rsa-1", None, &claims())).await,
            "several keys",
        );
    }

    #[tokio::test]
    async fn unsigned_and_unaccepted_algorithms_are_refused() {
        let keys = keys().await;
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        assert_refused(
            outcome(&keys, &format!("{header}.{payload}.")).await,
            "`alg: none`",
        );
        let hs384 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &claims(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("HMAC signs");
        assert_refused(outcome(&keys, &hs384).await, "`HS384` is not accepted");
        let mut critical = Header::new(Algorithm::HS256);
        critical.crit = Some(vec!["exp".to_owned()]);
        let critical = jsonwebtoken::encode(
            &critical,
            &claims(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("HMAC signs");
        assert_refused(outcome(&keys, &critical).await, "`crit`");
    }

    #[tokio::test]
    async fn an_rsa_public_key_used_as_hmac_secret_is_refused() {
        let keys = keys().await;
        let n = jwk_member("rsa-1", "n");
        let n_bytes = URL_SAFE_NO_PAD.decode(&n).expect("n is base64url");
        for secret in [RSA_1_PUBLIC.as_bytes(), n.as_bytes(), &n_bytes] {
            let forged = hs256(secret, Some("rsa-1"), &claims());
            assert_refused(outcome(&keys, &forged).await, "signature does not match");
        }
    }

    #[tokio::test]
    async fn a_rotated_jwks_file_is_picked_up_without_restart() {
        // An unknown kid makes the file be read again.
        let file = JwksFile::new("rotation-miss", &jwks_of(&["rsa-1"]));
        let keys = file.keys(3_600, 0).await;
        assert_eq!(
            outcome(&keys, &token("rsa-1", &claims())).await,
            Ok("u-1".to_owned())
        );
        file.write(&jwks_of(&["rsa-2"]));
        assert_eq!(
            outcome(&keys, &token("rsa-2", &claims())).await,
            Ok("u-1".to_owned())
        );

        // The periodic refresh drops a removed key, though its kid is known: the very
        // token accepted (and kept) before is verified again, and refused.
        let file = JwksFile::new("rotation-periodic", &jwks_of(&["rsa-1"]));
        let keys = file.keys(0, 3_600).await;
        let signed_by_rsa_1 = token("rsa-1", &claims());
        assert_eq!(outcome(&keys, &signed_by_rsa_1).await, Ok("u-1".to_owned()));
        file.write(&jwks_of(&["rsa-2"]));
        assert_refused(outcome(&keys, &signed_by_rsa_1).await, "`rsa-1`");
        assert_eq!(
            outcome(&keys, &token("rsa-2", &claims())).await,
            Ok("u-1".to_owned())
        );
    }

    #[tokio::test]
    async fn a_kept_token_is_refused_once_it_expires() {
        let keys = Keys::load(&AuthConfig {
            leeway_s: 0,
            ..config()
        })
        .await
        .expect("the secret loads");
        let token = hs256(SECRET.as_bytes(), None, &with("exp", json!(now() + 1)));
        assert_eq!(outcome(&keys, &token).await, Ok("u-1".to_owned()));
        assert_eq!(outcome(&keys, &token).await, Ok("u-1".to_owned()), "kept");
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        assert_refused(outcome(&keys, &token).await, "expired");
    }

    #[tokio::test]
    async fn unknown_kids_reread_the_file_at_most_once_per_interval() {
        let file = JwksFile::new("rate-limit", &jwks_of(&["rsa-1"]));
        let keys = file.keys(3_600, 3_600).await;
        file.write(&jwks_of(&["rsa-1", "rsa-2"]));
        assert_eq!(
            outcome(&keys, &token("rsa-2", &claims())).await,
            Ok("u-1".to_owned())
        );
        file.write(&jwks_of(&["rsa-1", "rsa-2", "ec-1"]));
        assert_refused(
            outcome(&keys, &token("ec-1", &claims())).await,
            "no key has the token's kid `ec-1`",
        );
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_good_set() {
        let file = JwksFile::new("broken-refresh", &jwks_of(&["rsa-1"]));
        let keys = file.keys(0, 0).await;
        file.write("{ \"keys\": [ truncated");
        assert_eq!(
            outcome(&keys, &token("rsa-1", &claims())).await,
            Ok("u-1".to_owned())
        );
        file.write(r#"{ "keys": [] }"#);
        assert_eq!(
            outcome(&keys, &token("rsa-1", &claims())).await,
            Ok("u-1".to_owned())
        );
    }

    #[tokio::test]
    async fn a_jwks_url_is_fetched_at_start_and_again_for_unknown_kids_once_per_interval() {
        let (url, fetches) = serve_jwks(JWKS.to_owned(), Duration::ZERO).await;
        let keys = Keys::load(&AuthConfig {
            jwks_url: Some(url),
            jwks_min_refresh_s: 3_600,
            ..config()
        })
        .await
        .expect("the served JWKS loads");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(
            outcome(&keys, &token("rsa-1", &claims())).await,
            Ok("u-1".to_owned())
        );
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "a known kid needs no fetch"
        );
        for kid in ["rsa-8", "rsa-9"] {
            let unknown = token_as("rsa-1", Some(kid), &claims());
            assert_refused(outcome(&keys, &unknown).await, "no key has the token's kid");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "two misses, one fetch");
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_share_one_fetch() {
        // Slow answers, so that the second miss comes while the first one's fetch runs.
        let (url, fetches) = serve_jwks(JWKS.to_owned(), Duration::from_millis(100)).await;
        let keys = Keys::load(&AuthConfig {
            jwks_url: Some(url),
            jwks_min_refresh_s: 0,
            ..config()
        })
        .await
        .expect("the served JWKS loads");
        let (first, second) = (
            token_as("rsa-1", Some("rsa-8"), &claims()),
            token_as("rsa-1", Some("rsa-9"), &claims()),
        );
        let (first, second) = tokio::join!(keys.verify(&first), keys.verify(&second));
        assert!(first.is_err() && second.is_err());
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "one fetch at start, one for both"
        );
    }

    #[tokio::test]
    async fn an_unusable_jwks_stops_the_start_naming_it() {
        let failure = async |config: AuthConfig| match Keys::load(&config).await {
            Ok(_) => panic!("{config:?} loaded"),
            Err(error) => error.to_string(),
        };
        let with_file = |path: &JwksFile| AuthConfig {
            jwks_file: Some(path.0.clone()),
            ..AuthConfig::default()
        };

        let missing = JwksFile::new("missing", "");
        std::fs::remove_file(&missing.0).expect("the file was just written");
        let error = failure(with_file(&missing)).await;
        assert!(error.contains(&missing.0.display().to_string()), "{error}");
        assert!(error.contains("cannot read it"), "{error}");

        let garbage = JwksFile::new("garbage", "<html>not a key set</html>");
        let error = failure(with_file(&garbage)).await;
        assert!(error.contains(&garbage.0.display().to_string()), "{error}");
        assert!(error.contains("not a JWKS"), "{error}");

        // A symmetric key, a P-384 key, an RSA key declared for ES256: nothing usable.
        let unusable = JwksFile::new(
            "unusable",
            &json!({ "keys": [
                { "kty": "oct", "kid": "hmac", "k": URL_SAFE_NO_PAD.encode(SECRET) },
                { "kty": "EC", "kid": "p384", "crv": "P-384",
                  "x": jwk_member("ec-1", "x"), "y": jwk_member("ec-1", "y") },
                { "kty": "RSA", "kid": "odd", "alg": "ES256",
                  "n": jwk_member("rsa-1", "n"), "e": "AQAB" },
            ] })
            .to_string(),
        );
        let error = failure(with_file(&unusable)).await;
        assert!(error.contains("no usable key"), "{error}");
        assert!(error.contains("key `odd`: declared for ES256"), "{error}");

        // Nothing listens on a port just released.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port is free");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        drop(listener);
        let url = format!("http://{address}/jwks.json");
        let error = failure(AuthConfig {
            jwks_url: Some(url.clone()),
            ..AuthConfig::default()
        })
        .await;
        assert!(
            error.contains(&url) && error.contains("cannot fetch it"),
            "{error}"
        );

        let error = failure(AuthConfig {
            jwks_url: Some("ftp://sso.example.test/jwks.json".to_owned()),
            ..AuthConfig::default()
        })
        .await;
        assert!(error.contains("not an http(s) URL"), "{error}");

        let error = failure(AuthConfig {
            jwks_file: Some(PathBuf::from(JWKS_PATH)),
            jwks_url: Some("https://sso.example.test/jwks.json".to_owned()),
            ..AuthConfig::default()
        })
        .await;
        assert!(error.contains("both set"), "{error}");
    }
}
