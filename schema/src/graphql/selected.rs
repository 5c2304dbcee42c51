//! A union or interface value whose selection picked nothing for its concrete type (a
//! fragment on another member) is `{}`, as the spec's field collection gives, not `null`:
//! async-graphql turns an empty selection into `null`, which a client cannot tell from
//! an absent value.

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};

/// `T` as its own GraphQL type, resolving an empty selection to `{}`.
pub struct Selected<T>(pub T);

impl<T: OutputType> OutputType for Selected<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // `T` is a value here, never an absent one: a null is an empty selection.
        match self.0.resolve(ctx, field).await? {
            Value::Null => Ok(Value::Object(Default::default())),
            value => Ok(value),
        }
    }
}
