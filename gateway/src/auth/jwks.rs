//! The public keys of a JWKS file or URL, held in memory and read again lazily: when a
//! token names an unknown `kid` (at most every `jwks_min_refresh_s`) and when the set is
//! older than `jwks_refresh_s`. A failed read keeps the last good set.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

/// How long one fetch of a JWKS URL may take, and its connection.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a JWKS cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("not an http(s) URL: {0}")]
    Url(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("cannot read it: {0}")]
    Read(String),
    #[error("cannot fetch it: {0}")]
    Fetch(String),
    #[error("not a JWKS: {0}")]
    Parse(String),
    #[error("no usable key (RSA for RS256, P-256 for ES256, Ed25519 for EdDSA){0}")]
    NoUsableKey(String),
}

/// Why no key of the set verifies a token.
#[derive(Debug, thiserror::Error)]
pub enum NoKey {
    #[error("no key has the token's kid `{0}`")]
    UnknownKid(String),
    #[error("key `{kid}` is for {key_alg:?}, not for the token's {alg:?}")]
    WrongAlgorithm {
        kid: String,
        key_alg: Algorithm,
        alg: Algorithm,
    },
    #[error("no key for {0:?}")]
    NoneFor(Algorithm),
    #[error("the token names no kid and several keys are for {0:?}")]
    Ambiguous(Algorithm),
}

/// Where the set is read from.
pub enum Source {
    File(PathBuf),
    Url {
        url: reqwest::Url,
        client: reqwest::Client,
    },
}

impl Source {
    /// A URL source, with its HTTP client and timeouts.
    pub fn url(url: &str) -> Result<Self, JwksError> {
        let url = reqwest::Url::parse(url).map_err(|error| JwksError::Url(error.to_string()))?;
        match url.scheme() {
            "https" => {}
            // Allowed for a JWKS on the same host or a trusted network, but whoever is on
            // the path could swap the keys.
            "http" => tracing::warn!(%url, "the JWKS is fetched over plain http"),
            scheme => return Err(JwksError::Url(format!("scheme `{scheme}`"))),
        }
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|error| JwksError::Client(with_causes(&error)))?;
        Ok(Self::Url { url, client })
    }

    /// The usable keys the source holds now.
    async fn read(&self) -> Result<Vec<PublicKey>, JwksError> {
        match self {
            Self::File(path) => parse(
                &tokio::fs::read(path)
                    .await
                    .map_err(|error| JwksError::Read(error.to_string()))?,
            ),
            Self::Url { url, client } => parse(&fetch(client, url).await?),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file `{}`", path.display()),
            Self::Url { url, .. } => write!(f, "URL `{url}`"),
        }
    }
}

async fn fetch(client: &reqwest::Client, url: &reqwest::Url) -> Result<Vec<u8>, JwksError> {
    let fetch_error = |error: reqwest::Error| JwksError::Fetch(with_causes(&error));
    let response = client
        .get(url.clone())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(fetch_error)?;
    Ok(response.bytes().await.map_err(fetch_error)?.to_vec())
}

/// An error and its causes on one line: reqwest's own message leaves out why a
/// connection failed.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

/// A key of the set, usable for exactly one algorithm.
struct PublicKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// A JWKS document. Each key is parsed on its own, so that a key of a kind jsonwebtoken
/// does not know (an encryption key on another curve, say) does not void the whole set.
#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

/// The usable keys of a JWKS document; the others are skipped, with their reason.
fn parse(text: &[u8]) -> Result<Vec<PublicKey>, JwksError> {
    let document: Document =
        serde_json::from_slice(text).map_err(|error| JwksError::Parse(error.to_string()))?;
    let mut keys = Vec::new();
    let mut skipped = String::new();
    for (index, value) in document.keys.into_iter().enumerate() {
        let name = match value.get("kid").and_then(serde_json::Value::as_str) {
            Some(kid) => format!("`{kid}`"),
            None => format!("#{}", index + 1),
        };
        match serde_json::from_value::<Jwk>(value)
            .map_err(|error| error.to_string())
            .and_then(|jwk| usable(&jwk))
        {
            Ok(key) => keys.push(key),
            Err(reason) => {
                tracing::debug!(key = %name, %reason, "JWKS key skipped");
                skipped.push_str(&format!("; key {name}: {reason}"));
            }
        }
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey(skipped));
    }
    Ok(keys)
}

/// The key of `jwk`, for the one algorithm its type and curve allow, if its declared
/// `alg` and `use` (when present) agree.
fn usable(jwk: &Jwk) -> Result<PublicKey, String> {
    if let Some(usage) = &jwk.common.public_key_use
        && *usage != PublicKeyUse::Signature
    {
        return Err("not a signature key (`use`)".to_owned());
    }
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        // HS256 uses the configured secret only: a JWKS never provides an HMAC secret.
        AlgorithmParameters::OctetKey(_) => return Err("a symmetric key".to_owned()),
        AlgorithmParameters::EllipticCurve(_) | AlgorithmParameters::OctetKeyPair(_) => {
            return Err("an unsupported curve".to_owned());
        }
    };
    if let Some(declared) = jwk.common.key_algorithm
        && !declares(declared, alg)
    {
        return Err(format!("declared for {declared}, its type fits {alg:?}"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|error| error.to_string())?;
    Ok(PublicKey {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

/// Whether a JWK's declared `alg` is `alg`.
fn declares(declared: KeyAlgorithm, alg: Algorithm) -> bool {
    matches!(
        (declared, alg),
        (KeyAlgorithm::RS256, Algorithm::RS256)
            | (KeyAlgorithm::ES256, Algorithm::ES256)
            | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
    )
}

/// The key for a token of `alg`: the one named by `kid`, else the only one for `alg`.
fn select(keys: &[PublicKey], alg: Algorithm, kid: Option<&str>) -> Result<DecodingKey, NoKey> {
    let Some(kid) = kid else {
        let mut fitting = keys.iter().filter(|key| key.alg == alg);
        return match (fitting.next(), fitting.next()) {
            (Some(key), None) => Ok(key.key.clone()),
            (None, _) => Err(NoKey::NoneFor(alg)),
            (Some(_), Some(_)) => Err(NoKey::Ambiguous(alg)),
        };
    };
    let mut named = keys.iter().filter(|key| key.kid.as_deref() == Some(kid));
    let first = named
        .next()
        .ok_or_else(|| NoKey::UnknownKid(kid.to_owned()))?;
    std::iter::once(first)
        .chain(named)
        .find(|key| key.alg == alg)
        .map(|key| key.key.clone())
        .ok_or_else(|| NoKey::WrongAlgorithm {
            kid: kid.to_owned(),
            key_alg: first.alg,
            alg,
        })
}

/// The set in memory and when it was read.
struct State {
    keys: Arc<[PublicKey]>,
    /// Counts reads, good or not: a task that waited for another's read sees it happened.
    generation: u64,
    /// The last read, good or not: the periodic refresh counts from it.
    read_at: Instant,
    /// The last read after start-up: reads forced by unknown kids are spaced from it.
    refreshed_at: Option<Instant>,
}

/// The keys of a JWKS source, read again when stale or when a token names an unknown kid.
pub struct Jwks {
    source: Source,
    refresh: Duration,
    min_refresh: Duration,
    state: RwLock<State>,
    /// Held while the set is read again, so that concurrent misses share one read.
    reading: Mutex<()>,
}

impl Jwks {
    /// The set of `source`, read now: a source that cannot be read, or holds no usable
    /// key, is an error.
    pub async fn load(
        source: Source,
        refresh: Duration,
        min_refresh: Duration,
    ) -> Result<Self, JwksError> {
        let keys = source.read().await?;
        tracing::info!(%source, keys = keys.len(), "JWKS loaded");
        Ok(Self {
            source,
            refresh,
            min_refresh,
            state: RwLock::new(State {
                keys: keys.into(),
                generation: 0,
                read_at: Instant::now(),
                refreshed_at: None,
            }),
            reading: Mutex::new(()),
        })
    }

    /// The key that verifies a token of `alg` naming `kid`.
    pub async fn key(&self, alg: Algorithm, kid: Option<&str>) -> Result<DecodingKey, NoKey> {
        self.refresh_if_stale().await;
        let (keys, generation) = self.snapshot().await;
        let chosen = select(&keys, alg, kid);
        if !matches!(chosen, Err(NoKey::UnknownKid(_))) || !self.refresh_for_miss(generation).await
        {
            return chosen;
        }
        select(&self.snapshot().await.0, alg, kid)
    }

    /// The set's generation, read again first if it is due: it changes whenever the set
    /// is read again, so a token verified under another generation is verified again.
    pub async fn generation(&self) -> u64 {
        self.refresh_if_stale().await;
        self.state.read().await.generation
    }

    async fn snapshot(&self) -> (Arc<[PublicKey]>, u64) {
        let state = self.state.read().await;
        (Arc::clone(&state.keys), state.generation)
    }

    /// Reads the set again when it is older than the refresh interval, so that removed
    /// keys stop working.
    async fn refresh_if_stale(&self) {
        if !self.is_stale().await {
            return;
        }
        // Another task is reading already: go on with the current set rather than wait.
        let Ok(_reading) = self.reading.try_lock() else {
            return;
        };
        // A read may have ended between the check and the lock.
        if self.is_stale().await {
            self.reread().await;
        }
    }

    async fn is_stale(&self) -> bool {
        self.state.read().await.read_at.elapsed() >= self.refresh
    }

    /// Reads the set again for a token naming an unknown kid, unless another task did
    /// while this one waited (`seen` is the generation the kid was missing from) or the
    /// last read is too recent. Whether the set may have changed.
    async fn refresh_for_miss(&self, seen: u64) -> bool {
        let _reading = self.reading.lock().await;
        let (generation, refreshed_at) = {
            let state = self.state.read().await;
            (state.generation, state.refreshed_at)
        };
        if generation != seen {
            return true;
        }
        if refreshed_at.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return false;
        }
        self.reread().await;
        true
    }

    /// Reads the source; on failure the last good set stays.
    async fn reread(&self) {
        let read = self.source.read().await;
        let now = Instant::now();
        let mut state = self.state.write().await;
        state.generation = state.generation.wrapping_add(1);
        state.read_at = now;
        state.refreshed_at = Some(now);
        match read {
            Ok(keys) => {
                tracing::debug!(source = %self.source, keys = keys.len(), "JWKS read again");
                state.keys = keys.into();
            }
            Err(error) => tracing::warn!(
                source = %self.source,
                %error,
                "JWKS refresh failed; the last good set stays in use"
            ),
        }
    }
}
