//! The GraphQL object types, implemented on the store's records.

mod department;
mod event;
mod jurisdiction;
mod node;
mod organization;
mod person;
mod place;
mod record;
mod thing;

pub use node::Node;

use connectors::{PersonalData, Scope};

/// Shows `keep_start` and `keep_end` characters and masks the rest, unless the scope may
/// see personal data.
fn mask(scope: &Scope, value: &str, keep_start: usize, keep_end: usize) -> String {
    match scope.personal_data() {
        PersonalData::Visible => value.to_owned(),
        PersonalData::Masked => connectors::mask_keeping(value, keep_start, keep_end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked_unless_the_scope_may_see_it() {
        let masked = Scope::city_wide();
        assert_eq!(
            mask(&masked, "22040219900101123X", 6, 4),
            "220402********123X"
        );
        assert_eq!(mask(&masked, "13912345678", 3, 4), "139****5678");
        assert_eq!(mask(&masked, "123", 3, 4), "***");
        let visible = Scope::subtree("220400", PersonalData::Visible);
        assert_eq!(mask(&visible, "13912345678", 3, 4), "13912345678");
    }
}
