//! The HTTP side: every `rest` department under `/<code>/`, and the control endpoints
//! under `/_sim/`. A path may start with `/_t/<sandbox>` to keep its faults and counts
//! apart from other users of the same simulator (tests running side by side).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::faults::{Effect, Fault, Garbage};
use super::filings::{Filing, Registry};
use super::hotline::Hotlines;
use super::render;
use connectors::Element;
use connectors::config::Auth;

/// One rest department as served.
pub struct Served {
    pub auth: Auth,
    pub envelope: super::Envelope,
    /// Whether it offers a batched lookup; without one, `?ids=` is not found.
    pub batched: bool,
    pub records: HashMap<Element, HashMap<String, Value>>,
}

/// Requests one department received.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub requests: u64,
    /// Ids asked for by each request, in order (`rest`), or the statements of each round
    /// trip (`sql` departments behind the database proxy).
    pub batch_sizes: Vec<usize>,
}

#[derive(Default)]
struct Control {
    /// By (sandbox, department).
    faults: HashMap<(String, String), Fault>,
    counts: HashMap<(String, String), Counts>,
}

pub struct Shared {
    pub departments: HashMap<String, Served>,
    /// `sql` departments reached through the database proxy (no sandboxes there).
    pub proxied: HashSet<String>,
    /// `open311` systems (the 12345 hotline), served by [`super::hotline`].
    pub hotlines: Hotlines,
    control: Mutex<Control>,
    /// Mediation cases registered through the gateway, by (sandbox, department).
    filings: Mutex<HashMap<(String, String), Registry>>,
    /// The change feeds of departments with one.
    pub changes: Arc<super::changes::ChangeLogs>,
}

impl Shared {
    pub fn new(departments: HashMap<String, Served>, proxied: HashSet<String>) -> Self {
        Self {
            departments,
            proxied,
            hotlines: Hotlines::default(),
            control: Mutex::new(Control::default()),
            filings: Mutex::new(HashMap::new()),
            changes: Arc::default(),
        }
    }

    pub fn with_hotlines(mut self, hotlines: Hotlines) -> Self {
        self.hotlines = hotlines;
        self
    }

    /// Counts a request for `ids` ids to a department of a sandbox, and says which fault
    /// to play on it.
    pub(super) fn admit(&self, sandbox: &str, department: &str, ids: usize) -> Fault {
        let key = (sandbox.to_owned(), department.to_owned());
        let mut control = self.control();
        let counts = control.counts.entry(key.clone()).or_default();
        counts.requests += 1;
        counts.batch_sizes.push(ids);
        control.faults.get(&key).cloned().unwrap_or_default()
    }

    fn filings(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Registry>> {
        self.filings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Departments behind the database proxy cannot tell sandboxes apart: their faults
    /// and counts are kept outside any.
    fn sandbox_of(&self, department: &str, sandbox: String) -> String {
        if self.proxied.contains(department) {
            String::new()
        } else {
            sandbox
        }
    }

    /// The fault set on a department outside any sandbox.
    pub fn fault(&self, department: &str) -> Fault {
        self.control()
            .faults
            .get(&(String::new(), department.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Counts a round trip of `statements` to a proxied department.
    pub fn count(&self, department: &str, statements: usize) {
        let mut control = self.control();
        let counts = control
            .counts
            .entry((String::new(), department.to_owned()))
            .or_default();
        counts.requests += 1;
        counts.batch_sizes.push(statements);
    }
}

type AppState = Arc<Shared>;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_sim/faults", get(list_faults).delete(clear_faults))
        .route(
            "/_sim/faults/{department}",
            put(set_fault).delete(clear_fault),
        )
        .route("/_sim/stats", get(stats).delete(reset_stats))
        .route("/_sim/filings/{department}", get(filed_cases))
        .route(
            "/_sim/changes/{department}",
            axum::routing::post(append_change),
        )
        .route("/_t/{sandbox}/{department}/changes", get(changes_page))
        .route("/{department}/changes", get(changes_page))
        .merge(super::hotline::routes())
        .route(
            "/_t/{sandbox}/{department}/{collection}",
            get(batch).post(file),
        )
        .route("/_t/{sandbox}/{department}/{collection}/{id}", get(single))
        .route("/{department}/openapi.json", get(openapi_document))
        .route("/{department}/openapi/{collection}", get(aligned))
        .route("/{department}/{collection}", get(batch).post(file))
        .route("/{department}/{collection}/{id}", get(single))
        .fallback(|| async { refuse(StatusCode::NOT_FOUND, "no such department or collection") })
        .with_state(state)
}

#[derive(Deserialize)]
struct SandboxQuery {
    #[serde(default)]
    sandbox: String,
}

#[derive(Deserialize)]
struct IdsQuery {
    ids: Option<String>,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "code": status.as_u16(), "msg": message })),
    )
        .into_response()
}

/// The collections a department serves records under, by element.
const COLLECTIONS: [(&str, Element); 5] = [
    ("persons", Element::Person),
    ("places", Element::Place),
    ("things", Element::Thing),
    ("organizations", Element::Organization),
    ("events", Element::Event),
];

fn element_of(collection: &str) -> Option<Element> {
    COLLECTIONS
        .iter()
        .find(|(name, _)| *name == collection)
        .map(|(_, element)| *element)
}

pub(super) fn collection_of(element: Element) -> &'static str {
    COLLECTIONS
        .iter()
        .find(|(_, e)| *e == element)
        .map_or("records", |(name, _)| name)
}

pub(super) fn authorised(auth: &Auth, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match auth {
        Auth::None => true,
        Auth::Bearer { token } => given == format!("Bearer {token}"),
        Auth::Basic { username, password } => {
            use base64::Engine;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            given == format!("Basic {encoded}")
        }
    }
}

/// A path's parameters: `department`, `collection`, `id` where the route has one, and
/// `sandbox` under `/_t/<sandbox>/`.
type Params = Path<HashMap<String, String>>;

fn param(params: &HashMap<String, String>, name: &str) -> String {
    params.get(name).cloned().unwrap_or_default()
}

async fn batch(
    State(state): State<AppState>,
    Path(params): Params,
    Query(query): Query<IdsQuery>,
    headers: HeaderMap,
) -> Response {
    let lookup = Lookup::Batch(query.ids);
    serve(&state, &params, lookup, &headers).await
}

/// The department's OpenAPI document (see [`super::openapi`]).
async fn openapi_document(
    State(state): State<AppState>,
    Path(department): Path<String>,
) -> Response {
    match state.departments.get(&department) {
        Some(served) => Json(super::openapi::document(&department, served)).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "no such department"),
    }
}

/// Records by id, one item per id in the order asked (`null` where none), unwrapped.
async fn aligned(
    State(state): State<AppState>,
    Path(params): Params,
    Query(query): Query<IdsQuery>,
    headers: HeaderMap,
) -> Response {
    let lookup = Lookup::Aligned(query.ids);
    serve(&state, &params, lookup, &headers).await
}

async fn single(
    State(state): State<AppState>,
    Path(params): Params,
    headers: HeaderMap,
) -> Response {
    let lookup = Lookup::Single(param(&params, "id"));
    serve(&state, &params, lookup, &headers).await
}

enum Lookup {
    Batch(Option<String>),
    /// A batch answered by position, for the OpenAPI document's readers.
    Aligned(Option<String>),
    Single(String),
}

async fn serve(
    state: &Shared,
    params: &HashMap<String, String>,
    lookup: Lookup,
    headers: &HeaderMap,
) -> Response {
    let (sandbox, department) = (param(params, "sandbox"), param(params, "department"));
    let collection = param(params, "collection");
    let Some(served) = state.departments.get(&department) else {
        return refuse(StatusCode::NOT_FOUND, "no such department");
    };
    let Some(element) = element_of(&collection) else {
        return refuse(StatusCode::NOT_FOUND, "no such collection");
    };
    let ids: Vec<String> = match &lookup {
        Lookup::Batch(Some(ids)) if served.batched => ids
            .split(',')
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect(),
        Lookup::Batch(Some(_)) => {
            return refuse(StatusCode::NOT_FOUND, "this system has no batched lookup");
        }
        Lookup::Aligned(Some(ids)) => ids.split(',').map(str::to_owned).collect(),
        Lookup::Batch(None) | Lookup::Aligned(None) => {
            return refuse(StatusCode::BAD_REQUEST, "ids are required");
        }
        Lookup::Single(id) => vec![id.clone()],
    };
    let key = (sandbox, department);
    let fault = {
        let mut control = state.control();
        let counts = control.counts.entry(key.clone()).or_default();
        counts.requests += 1;
        counts.batch_sizes.push(ids.len());
        control.faults.get(&key).cloned().unwrap_or_default()
    };
    if !authorised(&served.auth, headers) {
        return refuse(StatusCode::UNAUTHORIZED, "missing or wrong credentials");
    }
    let delay = fault.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(failed) = play(&fault).await {
        return failed;
    }
    let records = served.records.get(&element);
    let filed = state.filings();
    let filed = filed.get(&key).map(|registry| &registry.records);
    let found: Vec<Option<Value>> = ids
        .iter()
        .map(|id| {
            records
                .and_then(|r| r.get(id))
                .or_else(|| filed.and_then(|f| f.get(id)))
                .cloned()
                .map(|record| match fault.garbage {
                    Some(Garbage::Types) => scramble(record),
                    _ => record,
                })
        })
        .collect();
    let body = match lookup {
        Lookup::Batch(_) => {
            render::batch_answer(found.into_iter().flatten().collect(), served.envelope)
        }
        Lookup::Aligned(_) => Value::Array(
            found
                .into_iter()
                .map(|record| record.unwrap_or(Value::Null))
                .collect(),
        ),
        Lookup::Single(_) => match found.into_iter().flatten().next() {
            Some(record) => render::single_answer(record, served.envelope),
            None => return refuse(StatusCode::NOT_FOUND, "no such record"),
        },
    };
    let mut text = body.to_string();
    if fault.garbage == Some(Garbage::Json) {
        text.truncate(text.len() / 2);
    }
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The ids of the cases a department registered through the gateway, in a sandbox.
async fn filed_cases(
    State(state): State<AppState>,
    Path(department): Path<String>,
    Query(query): Query<SandboxQuery>,
) -> Json<Vec<String>> {
    let filings = state.filings();
    let mut ids: Vec<String> = filings
        .get(&(query.sandbox, department))
        .map(|registry| registry.records.keys().cloned().collect())
        .unwrap_or_default();
    ids.sort();
    Json(ids)
}

#[derive(Deserialize)]
struct ChangesQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// A page of a department's change feed: `{"code": 0, "data": [...], "next": "<n>"}`.
async fn changes_page(
    State(state): State<AppState>,
    Path(params): Params,
    Query(query): Query<ChangesQuery>,
    headers: HeaderMap,
) -> Response {
    let (sandbox, department) = (param(&params, "sandbox"), param(&params, "department"));
    let Some(served) = state.departments.get(&department) else {
        return refuse(StatusCode::NOT_FOUND, "no such department");
    };
    let Ok(after) = query.after.as_deref().unwrap_or("0").parse::<u64>() else {
        return refuse(StatusCode::BAD_REQUEST, "after is a change number");
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let fault = state.admit(&sandbox, &department, limit);
    if !authorised(&served.auth, &headers) {
        return refuse(StatusCode::UNAUTHORIZED, "missing or wrong credentials");
    }
    let delay = fault.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(failed) = play(&fault).await {
        return failed;
    }
    let (page, next) = state.changes.page(&sandbox, &department, after, limit);
    Json(serde_json::json!({ "code": 0, "data": page, "next": next.to_string() })).into_response()
}

/// Appends a change (or a list of them) to a department's feed.
async fn append_change(
    State(state): State<AppState>,
    Path(department): Path<String>,
    Query(query): Query<SandboxQuery>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return refuse(StatusCode::BAD_REQUEST, &rejection.body_text()),
    };
    if !state.departments.contains_key(&department) {
        return refuse(StatusCode::NOT_FOUND, "no such rest department");
    }
    let changes = match body {
        Value::Array(changes) => changes,
        change => vec![change],
    };
    if changes.iter().any(|c| !c.is_object()) {
        return refuse(StatusCode::BAD_REQUEST, "a change is a JSON object");
    }
    let numbers: Vec<u64> = changes
        .into_iter()
        .map(|change| state.changes.append(&query.sandbox, &department, change))
        .collect();
    Json(numbers).into_response()
}

/// A write: a justice bureau registers a mediation case (`POST …/mediations`), a
/// petitions bureau a letter or visit (`POST …/petitions`), deduped on the
/// `Idempotency-Key` header. Faults play as on reads, except latency, which delays
/// the answer after the case is registered (the answer lost on its way, not the case).
async fn file(
    State(state): State<AppState>,
    Path(params): Params,
    headers: HeaderMap,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let (sandbox, department) = (param(&params, "sandbox"), param(&params, "department"));
    let Some(served) = state.departments.get(&department) else {
        return refuse(StatusCode::NOT_FOUND, "no such department");
    };
    let Some(filing) = Filing::of(&department, &param(&params, "collection")) else {
        return refuse(StatusCode::NOT_FOUND, "this system takes no such filing");
    };
    let fault = state.admit(&sandbox, &department, 1);
    if !authorised(&served.auth, &headers) {
        return refuse(StatusCode::UNAUTHORIZED, "missing or wrong credentials");
    }
    if let Some(failed) = play(&fault).await {
        return failed;
    }
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return refuse(StatusCode::BAD_REQUEST, &rejection.body_text()),
    };
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return refuse(StatusCode::BAD_REQUEST, "Idempotency-Key is required");
    };
    let (status, answer) = state
        .filings()
        .entry((sandbox, department.clone()))
        .or_default()
        .file(filing, &department, key, &body);
    let delay = fault.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, Json(answer)).into_response()
}

/// What a fault does instead of answering: hang (never returns) or fail with a status.
async fn play(fault: &Fault) -> Option<Response> {
    match fault.effect() {
        Effect::Hang => Some(std::future::pending::<Response>().await),
        Effect::Fail(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(refuse(status, "系统繁忙，请稍后再试"))
        }
        Effect::Answer => None,
    }
}

/// The same record with every value but the ids turned into a list: valid JSON, wrong types.
pub(super) fn scramble(record: Value) -> Value {
    match record {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .enumerate()
                .map(|(i, (name, value))| {
                    if i == 0 {
                        (name, value)
                    } else {
                        (name, Value::Array(vec![value, Value::Bool(true)]))
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

async fn set_fault(
    State(state): State<AppState>,
    Path(department): Path<String>,
    Query(query): Query<SandboxQuery>,
    body: Result<Json<Fault>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(fault) = match body {
        Ok(body) => body,
        Err(rejection) => return refuse(StatusCode::BAD_REQUEST, &rejection.body_text()),
    };
    if let Err(reason) = fault.check() {
        return refuse(StatusCode::BAD_REQUEST, &reason);
    }
    if !state.departments.contains_key(&department)
        && !state.proxied.contains(&department)
        && !state.hotlines.serves(&department)
    {
        return refuse(StatusCode::NOT_FOUND, "no such simulated department");
    }
    let sandbox = state.sandbox_of(&department, query.sandbox);
    state
        .control()
        .faults
        .insert((sandbox, department), fault.clone());
    Json(fault).into_response()
}

async fn clear_fault(
    State(state): State<AppState>,
    Path(department): Path<String>,
    Query(query): Query<SandboxQuery>,
) -> StatusCode {
    let sandbox = state.sandbox_of(&department, query.sandbox);
    state.control().faults.remove(&(sandbox, department));
    StatusCode::NO_CONTENT
}

async fn clear_faults(
    State(state): State<AppState>,
    Query(query): Query<SandboxQuery>,
) -> StatusCode {
    state
        .control()
        .faults
        .retain(|(sandbox, _), _| *sandbox != query.sandbox);
    StatusCode::NO_CONTENT
}

async fn list_faults(
    State(state): State<AppState>,
    Query(query): Query<SandboxQuery>,
) -> Json<BTreeMap<String, Fault>> {
    Json(of_sandbox(&state.control().faults, &query.sandbox))
}

async fn stats(
    State(state): State<AppState>,
    Query(query): Query<SandboxQuery>,
) -> Json<BTreeMap<String, Counts>> {
    Json(of_sandbox(&state.control().counts, &query.sandbox))
}

/// One sandbox's entries of a map keyed by (sandbox, department), by department.
fn of_sandbox<T: Clone>(map: &HashMap<(String, String), T>, sandbox: &str) -> BTreeMap<String, T> {
    map.iter()
        .filter(|((owner, _), _)| owner == sandbox)
        .map(|((_, department), value)| (department.clone(), value.clone()))
        .collect()
}

async fn reset_stats(
    State(state): State<AppState>,
    Query(query): Query<SandboxQuery>,
) -> StatusCode {
    state
        .control()
        .counts
        .retain(|(sandbox, _), _| *sandbox != query.sandbox);
    StatusCode::NO_CONTENT
}
