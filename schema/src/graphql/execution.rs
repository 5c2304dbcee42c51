//! How every operation runs, whatever the transport (HTTP, Server-Sent Events,
//! WebSocket): checked before it runs (the limits, on a document parsed once and kept),
//! driven with its loaders' batches, and each result — every result of a subscription
//! too — given error codes, its maps in selection order, and its reads of personal data
//! audited before it leaves. These run around async-graphql's execution, not as its
//! extensions: once any extension is installed, async-graphql passes every field's
//! resolution through the extensions' chain of boxed futures, a tenth of a small query's
//! instructions.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response, Schema, ServerResult};
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};

use super::audit::{AuditTrail, audited};
use super::batching::{Batches, Driven};
use super::checks::{Checks, coded, parse_failed};
use super::documents::Documents;
use super::loaders::RequestLoaders;
use super::order::in_selection_order;
use super::{MutationRoot, QueryLimits, QueryRoot, SubscriptionRoot};
use crate::store::Store;

/// The one GraphQL schema and how its operations run.
#[derive(Clone)]
pub struct GovSchema {
    schema: Schema<QueryRoot, MutationRoot, SubscriptionRoot>,
    checks: Arc<Checks>,
    documents: Arc<Documents>,
}

/// An operation checked and ready to run.
struct Run {
    request: Request,
    batches: Option<Batches>,
    results: Arc<Results>,
}

/// What each result of an operation passes through.
struct Results {
    document: Arc<ExecutableDocument>,
    operation_name: Option<String>,
    audit: Option<(Store, Arc<AuditTrail>)>,
}

impl GovSchema {
    pub(super) fn new(
        schema: Schema<QueryRoot, MutationRoot, SubscriptionRoot>,
        limits: QueryLimits,
    ) -> Self {
        Self {
            schema,
            checks: Arc::new(Checks { limits }),
            documents: Arc::default(),
        }
    }

    /// The schema in SDL.
    pub fn sdl(&self) -> String {
        self.schema.sdl()
    }

    /// The documents parsed lately, by their text.
    pub fn documents(&self) -> &Documents {
        &self.documents
    }

    /// Runs a query or a mutation.
    pub async fn execute(&self, request: Request) -> Response {
        let run = match self.ready(request) {
            Ok(run) => run,
            Err(refused) => return Response::from_errors(vec![refused]),
        };
        let response = match run.batches {
            Some(batches) => Driven::new(self.schema.execute(run.request), batches).await,
            None => self.schema.execute(run.request).await,
        };
        run.results.finish(response).await
    }

    /// Runs an operation as a stream of results: a subscription's, or a query's one.
    pub fn execute_stream(&self, request: Request) -> BoxStream<'static, Response> {
        let run = match self.ready(request) {
            Ok(run) => run,
            Err(refused) => {
                return stream::once(async { Response::from_errors(vec![refused]) }).boxed();
            }
        };
        let results = self.schema.execute_stream(run.request);
        let results = match run.batches {
            Some(batches) => Driven::new(results, batches).boxed(),
            None => results,
        };
        let finish = run.results;
        // Boxed while it runs: the stream holds its pending future inline, and an idle
        // subscription should not carry the audit's statement in its state.
        results
            .then(move |response| -> BoxFuture<'static, Response> {
                let finish = finish.clone();
                Box::pin(async move { finish.finish(response).await })
            })
            .boxed()
    }

    /// The request checked against the limits, its document parsed (or taken from those
    /// kept), or the error refusing it.
    fn ready(&self, mut request: Request) -> ServerResult<Run> {
        self.checks.check_text(&request.query, &request.variables)?;
        let document = self.documents.parse(&request.query).map_err(parse_failed)?;
        self.checks.check_document(&document)?;
        request.set_parsed_query(ExecutableDocument::clone(&document));
        let store = data::<Store>(&request).or_else(|| self.schema.data::<Store>());
        let audit = store
            .cloned()
            .zip(data::<Arc<AuditTrail>>(&request).cloned());
        Ok(Run {
            batches: data::<RequestLoaders>(&request).map(RequestLoaders::batches),
            results: Arc::new(Results {
                document,
                operation_name: request.operation_name.clone(),
                audit,
            }),
            request,
        })
    }
}

impl Results {
    /// A result as it leaves: audited (or withheld when its reads cannot be), its maps in
    /// selection order, every error with a code.
    async fn finish(&self, response: Response) -> Response {
        let mut response = match &self.audit {
            Some((store, trail)) => audited(store, trail, response).await,
            None => response,
        };
        in_selection_order(
            &mut response.data,
            &self.document,
            self.operation_name.as_deref(),
        );
        coded(response)
    }
}

/// The request's data of type `T`.
fn data<T: Send + Sync + 'static>(request: &Request) -> Option<&T> {
    request
        .data
        .get(&std::any::TypeId::of::<T>())
        .and_then(|data| data.downcast_ref::<T>())
}
