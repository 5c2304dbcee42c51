//! `${NAME}` and `${NAME:-default}` in config values: endpoints and secrets come from the
//! environment, with defaults that work on a developer machine.

use std::collections::HashMap;
use std::sync::Arc;

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where `${NAME}` is looked up: the process environment, or a fixed map (tests, the
/// demo), or a map in front of the environment.
#[derive(Clone)]
pub struct Vars {
    overrides: HashMap<String, String>,
    lookup: Lookup,
}

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vars")
            .field("overrides", &self.overrides.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Vars {
    /// The process environment.
    pub fn from_env() -> Self {
        Self {
            overrides: HashMap::new(),
            lookup: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    /// Nothing but what is set with [`Vars::set`].
    pub fn empty() -> Self {
        Self {
            overrides: HashMap::new(),
            lookup: Arc::new(|_| None),
        }
    }

    /// Sets `name`, in front of whatever the lookup would say.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.overrides.insert(name.into(), value.into());
        self
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.overrides
            .get(name)
            .cloned()
            .or_else(|| (self.lookup)(name))
    }

    /// Replaces every `${NAME}` / `${NAME:-default}` in `text`.
    pub fn interpolate(&self, text: &str) -> Result<String, VarError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| VarError::Unclosed(text.to_owned()))?;
            let inner = &after[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(VarError::BadName(name.to_owned()));
            }
            match (self.get(name).filter(|v| !v.is_empty()), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => return Err(VarError::Unset(name.to_owned())),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("environment variable {0} is not set and has no default")]
    Unset(String),
    #[error("`${{` without a closing `}}` in `{0}`")]
    Unclosed(String),
    #[error("`{0}` is not a variable name (letters, digits and _)")]
    BadName(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_defaults_and_errors() {
        let vars = Vars::empty().set("DEPARTMENTS_URL", "http://127.0.0.1:9");
        assert_eq!(
            vars.interpolate("${DEPARTMENTS_URL}/220422-GA").ok(),
            Some("http://127.0.0.1:9/220422-GA".to_owned())
        );
        assert_eq!(
            vars.interpolate("${TOKEN:-dev}").ok(),
            Some("dev".to_owned())
        );
        assert_eq!(vars.interpolate("plain").ok(), Some("plain".to_owned()));
        assert_eq!(
            vars.interpolate("${TOKEN}"),
            Err(VarError::Unset("TOKEN".to_owned()))
        );
        assert!(matches!(
            vars.interpolate("${TOKEN"),
            Err(VarError::Unclosed(_))
        ));
        assert!(matches!(
            vars.interpolate("${A B}"),
            Err(VarError::BadName(_))
        ));
    }
}
