//! `federated_type!` declares a federated type once: the GraphQL object (every field
//! nullable, since a department may not hold it, plus `sources`), and its catalog entry,
//! against which department config files are checked.

/// ```text
/// federated_type! {
///     /// Doc of the type.
///     HouseholdRegistration for Person.householdRegistration {
///         /// Doc of the field.
///         registration_number: Text,
///         gender: Enum(Gender),
///         id_number: Text [personal],
///     }
/// }
/// ```
/// Value kinds: `Text`, `Integer`, `Decimal`, `Boolean`, `Date`, `Enum(Type)`.
macro_rules! federated_type {
    (
        $(#[$meta:meta])*
        $name:ident for $element:ident . $field:ident {
            $(
                $(#[$field_meta:meta])*
                $field_name:ident : $kind:ident $(($enum:ty))? $([$personal:ident])?
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject, serde::Deserialize, Debug, Clone)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field_name: Option<federated_type!(@rust $kind $($enum)?)>,
            )+
            /// The department records these values come from, when each was fetched,
            /// and whether it was served from the cache (`stale`: past its TTL, because
            /// the department failed).
            #[serde(skip, default)]
            pub sources: Vec<$crate::graphql::federated::Source>,
        }

        impl $crate::graphql::federated::Federated for $name {
            const TYPE: connectors::catalog::FederatedType = connectors::catalog::FederatedType {
                element: connectors::Element::$element,
                field: stringify!($field),
                type_name: stringify!($name),
                fields: &[$(
                    connectors::catalog::FieldSpec {
                        name: stringify!($field_name),
                        value: federated_type!(@value $kind $($enum)?),
                        personal: federated_type!(@personal $($personal)?),
                    }
                ),+],
            };

            fn with_sources(mut self, sources: Vec<$crate::graphql::federated::Source>) -> Self {
                self.sources = sources;
                self
            }
        }
    };
    (@rust Text) => { String };
    (@rust Integer) => { i64 };
    (@rust Decimal) => { f64 };
    (@rust Boolean) => { bool };
    (@rust Date) => { chrono::NaiveDate };
    (@rust Enum $enum:ty) => { $enum };
    (@value Text) => { connectors::catalog::ValueType::Text };
    (@value Integer) => { connectors::catalog::ValueType::Integer };
    (@value Decimal) => { connectors::catalog::ValueType::Decimal };
    (@value Boolean) => { connectors::catalog::ValueType::Boolean };
    (@value Date) => { connectors::catalog::ValueType::Date };
    (@value Enum $enum:ty) => { connectors::catalog::ValueType::Enum(<$enum>::NAMES) };
    (@personal personal) => { true };
    (@personal) => { false };
}

pub(crate) use federated_type;
