//! The caller's scope: which part of the jurisdiction tree a request may see, and whether
//! personal data is shown in clear. Built once per request and passed to every store query
//! and connector call.

use std::sync::Arc;

/// The prefix every jurisdiction code in `code`'s subtree starts with.
///
/// Codes follow the national pattern: a city is `XXXX00` and its counties `XXXXNN`, a
/// township appends three digits to its county, a community three to its township, a
/// grid three to its community. Only a city's (or province's) code carries trailing
/// `00` pairs that its descendants do not share.
pub fn subtree_prefix(code: &str) -> &str {
    let mut prefix = code;
    if prefix.len() == 6 {
        while prefix.len() > 2 && prefix.ends_with("00") {
            prefix = &prefix[..prefix.len() - 2];
        }
    }
    prefix
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalData {
    /// ID numbers and phone numbers are masked.
    Masked,
    /// Shown in clear; every such read is audited.
    Visible,
}

/// Cheap to clone (each of a request's loaders keeps one): its texts are shared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    prefix: Arc<str>,
    personal_data: PersonalData,
    /// Events are visible only when this department was summoned to them (a
    /// department's staff).
    summoned: Option<Arc<str>>,
}

impl Scope {
    /// The whole city, personal data masked: what a request gets while no
    /// authentication is configured.
    pub fn city_wide() -> Self {
        Self {
            prefix: "".into(),
            personal_data: PersonalData::Masked,
            summoned: None,
        }
    }

    /// A jurisdiction subtree.
    pub fn subtree(code: &str, personal_data: PersonalData) -> Self {
        Self {
            prefix: subtree_prefix(code).into(),
            personal_data,
            summoned: None,
        }
    }

    /// The same scope, its events narrowed to those `department` was summoned to.
    pub fn summoned_to(mut self, department: Option<String>) -> Self {
        self.summoned = department.map(Into::into);
        self
    }

    /// The same scope, showing or masking personal data.
    pub fn with_personal_data(mut self, personal_data: PersonalData) -> Self {
        self.personal_data = personal_data;
        self
    }

    /// The department whose summonses bound the visible events, if any.
    pub fn summoned(&self) -> Option<&str> {
        self.summoned.as_deref()
    }

    pub fn personal_data(&self) -> PersonalData {
        self.personal_data
    }

    /// The code prefix this scope covers (empty for everything).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Narrows a requested subtree prefix to this scope: the deeper of the two when one
    /// contains the other, `None` when they are disjoint (nothing is visible).
    pub fn narrow<'a>(&'a self, requested: &'a str) -> Option<&'a str> {
        if requested.starts_with(&*self.prefix) {
            Some(requested)
        } else if self.prefix.starts_with(requested) {
            Some(&self.prefix)
        } else {
            None
        }
    }

    /// Whether a jurisdiction code lies inside this scope.
    pub fn contains(&self, code: &str) -> bool {
        code.starts_with(&*self.prefix)
    }
}

/// Masks personal data, keeping a little of each end so that a person can still be told
/// apart: 6 and 4 characters of an ID number, 3 and 4 of a phone number.
pub fn mask(text: &str) -> String {
    let (front, back) = match text.chars().count() {
        15.. => (6, 4),
        11.. => (3, 4),
        _ => (2, 2),
    };
    mask_keeping(text, front, back)
}

/// Replaces all but the first `keep_start` and last `keep_end` characters with `*`
/// (all of them when the text is that short).
pub fn mask_keeping(text: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= chars.len() - keep_end {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn city_prefix_drops_trailing_zero_pairs_and_lower_levels_keep_their_code() {
        assert_eq!(subtree_prefix("220400"), "2204");
        assert_eq!(subtree_prefix("220402"), "220402");
        assert_eq!(subtree_prefix("220402001"), "220402001");
        assert_eq!(subtree_prefix("220402001001001"), "220402001001001");
    }

    #[test]
    fn narrowing_keeps_the_deeper_prefix_and_refuses_disjoint_subtrees() {
        let county = Scope::subtree("220402", PersonalData::Masked);
        assert_eq!(county.narrow("220402003"), Some("220402003"));
        assert_eq!(county.narrow("2204"), Some("220402"));
        assert_eq!(county.narrow("220403"), None);
        assert_eq!(Scope::city_wide().narrow("220421"), Some("220421"));
        assert!(county.contains("220402001001"));
        assert!(!county.contains("220403001"));
    }
}
