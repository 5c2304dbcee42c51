//! The 12345 hotline in the simulator: every `open311` system of the config folder,
//! serving Open311 GeoReport v2 (`services.json`, `requests.json`, `requests/{id}.json`)
//! and the hotline's status update (`POST requests/{id}.json`) under `/<code>/` and
//! `/_t/<sandbox>/<code>/`, with the same faults and counts per sandbox as the `rest`
//! departments (see [`super::server`]).
//!
//! Its requests are synthetic but deterministic: the same index gives the same requests,
//! each on a real grid of the index (its code in the system's jurisdiction field), one
//! on a grid outside the city, and a few for services that do not become events. Their
//! times are hours to days before the simulator started. Status updates are recorded per
//! sandbox, change what that sandbox is then served, and are read back at
//! `GET /_sim/hotline/updates?sandbox=`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::seed::in_memory::{self, DataSet};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, Offset, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::faults::{Effect, Fault, Garbage};
use super::server::{Shared, authorised};
use connectors::config::{Auth, DepartmentConfig};
use connectors::open311::{RequestStatus, Service, ServiceRequest};

/// How many requests each simulated system holds.
const REQUESTS: usize = 40;

/// The request placed on a grid outside the city (蛟河市, in Jilin city): its zone is
/// unknown to the gateway.
const OUTSIDE: usize = 17;
const OUTSIDE_ZONE: &str = "220281103001001";

/// The hotline's services: code, name, group, agency handling it, what it covers.
const SERVICES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "101",
        "邻里纠纷",
        "矛盾纠纷",
        "司法局",
        "噪音、漏水、占用公共通道等邻里纠纷",
    ),
    (
        "102",
        "婚姻家庭纠纷",
        "矛盾纠纷",
        "司法局",
        "婚姻、抚养、赡养等家庭纠纷",
    ),
    (
        "201",
        "劳动保障",
        "劳动社保",
        "人社局",
        "拖欠工资、劳动合同、社会保险等劳动争议",
    ),
    (
        "301",
        "物业服务",
        "城乡建设",
        "住建局",
        "物业收费、服务质量、公共设施维修",
    ),
    (
        "302",
        "土地承包",
        "农业农村",
        "农业农村局",
        "土地承包经营权、地界等纠纷",
    ),
    (
        "401",
        "安全隐患",
        "公共安全",
        "应急管理局",
        "燃气、电梯、消防通道、危房等安全隐患",
    ),
    (
        "402",
        "环境污染",
        "生态环境",
        "生态环境分局",
        "油烟、噪声、污水、异味等污染",
    ),
    (
        "403",
        "市容环卫",
        "城市管理",
        "城管执法局",
        "垃圾清运、占道经营、乱贴乱画",
    ),
    (
        "501",
        "消费投诉",
        "市场监管",
        "市场监管局",
        "商品质量、预付卡、价格欺诈",
    ),
    (
        "502",
        "社会救助",
        "民政服务",
        "民政局",
        "低保、临时救助、困难群众帮扶",
    ),
    (
        "601",
        "社会治安",
        "公共安全",
        "公安局",
        "治安隐患、滋事扰序",
    ),
    (
        "602",
        "道路交通",
        "交通运输",
        "交通运输局",
        "道路破损、信号灯故障",
    ),
    (
        "901",
        "政策咨询",
        "咨询",
        "12345热线",
        "政策法规、办事流程咨询，当场答复",
    ),
];

/// What callers say, by service (in the order of [`SERVICES`]); `{c}` is the community.
const DESCRIPTIONS: &[[&str; 2]] = &[
    [
        "{c}楼上住户连续多日夜间装修，噪音扰民，多次沟通无果，请求协调处理。",
        "{c}邻居在楼道堆放杂物、占用公共通道，双方发生争执，请求社区调解。",
    ],
    [
        "来电人与配偶因子女抚养和财产分割长期争吵，请求{c}帮助调解。",
        "来电人家中老人赡养问题兄弟姐妹互相推诿，请求{c}组织调解。",
    ],
    [
        "来电人在{c}附近工地务工，被拖欠工资三个月共计一万二千元，请求帮助追讨。",
        "来电人所在单位未签订劳动合同且未缴纳社会保险，请求依法处理。",
    ],
    [
        "{c}小区电梯频繁故障，物业公司维修不及时，老人出行困难，请求督促整改。",
        "{c}小区物业擅自提高停车费标准，业主不认可，请求核查。",
    ],
    [
        "{c}土地承包合同到期后承包方拒不退还耕地，请求处理。",
        "来电人与邻户因承包地地界发生争议，请求{c}和乡镇协调确权。",
    ],
    [
        "{c}一居民楼单元内燃气异味明显，疑似管道泄漏，请求尽快排查。",
        "{c}小区消防通道被车辆长期占用，存在安全隐患，请求清理。",
    ],
    [
        "{c}附近饭店油烟直排，周边居民无法开窗通风，请求查处。",
        "{c}附近小作坊夜间排放刺鼻气味，请求环保部门检查。",
    ],
    [
        "{c}路口垃圾堆积多日无人清运，气味难闻，请求及时清理。",
        "{c}沿街商户占道经营，影响行人通行，请求整治。",
    ],
    [
        "来电人在{c}附近健身房办理预付卡后商家闭店，请求协助退费。",
        "来电人在{c}附近超市购买的食品已过保质期，商家拒绝退换，请求处理。",
    ],
    [
        "来电人家中因病致贫，生活困难，申请临时救助，请求{c}上门核实。",
        "{c}一独居老人无人照料，生活困难，请求社区帮扶。",
    ],
    [
        "{c}小区夜间有陌生人撬动电动车，请求加强巡逻。",
        "{c}附近烧烤店门前经常有人酗酒滋事，请求处理。",
    ],
    [
        "{c}附近道路路面塌陷形成大坑，夜间行车危险，请求尽快修复。",
        "{c}路口信号灯损坏多日，交通秩序混乱，请求维修。",
    ],
    [
        "来电人咨询城乡居民医疗保险缴费标准和缴费时间，已当场答复。",
        "来电人咨询办理居住证所需材料，已当场答复。",
    ],
];

/// A grid of the index and where on it a caller might be.
#[derive(Debug, Clone)]
struct Zone {
    code: String,
    county: String,
    township: String,
    community: String,
    grid: String,
    address: Option<String>,
    longitude: Option<f64>,
    latitude: Option<f64>,
}

/// Every grid of the data set, by code, with its first place (by id) as where a caller is.
fn zones(data: &DataSet) -> Vec<Zone> {
    let jurisdictions = data.table("jurisdictions");
    let (code, name, level, parent) = (
        jurisdictions.column("code"),
        jurisdictions.column("name"),
        jurisdictions.column("level"),
        jurisdictions.column("parent_code"),
    );
    let nodes: HashMap<&str, (&str, Option<&str>)> = jurisdictions
        .rows()
        .iter()
        .filter_map(|row| Some((code.of(row)?, (name.of(row)?, parent.of(row)))))
        .collect();
    let up = |code: Option<&str>| code.and_then(|c| nodes.get(c)).copied();
    let places = data.table("places");
    let (id, grid, address, longitude, latitude) = (
        places.column("id"),
        places.column("jurisdiction_code"),
        places.column("address"),
        places.column("longitude"),
        places.column("latitude"),
    );
    let mut first_place: HashMap<&str, (i64, &[Option<String>])> = HashMap::new();
    for row in places.rows() {
        if let (Some(place), Some(grid)) = (id.id(row), grid.of(row)) {
            let first = first_place.entry(grid).or_insert((place, row));
            if place < first.0 {
                *first = (place, row);
            }
        }
    }
    let mut zones: Vec<Zone> = jurisdictions
        .rows()
        .iter()
        .filter(|row| level.of(row) == Some("GRID"))
        .filter_map(|row| {
            let grid_code = code.of(row)?;
            let (grid_name, community_code) = up(Some(grid_code))?;
            let (community, township_code) = up(community_code)?;
            let (township, county_code) = up(township_code)?;
            let (county, _) = up(county_code)?;
            let place = first_place.get(grid_code).map(|(_, row)| *row);
            let degrees = |column: in_memory::Column| {
                place
                    .and_then(|row| column.of(row))
                    .and_then(|v| v.parse().ok())
            };
            Some(Zone {
                code: grid_code.to_owned(),
                county: county.to_owned(),
                township: township.to_owned(),
                community: community.to_owned(),
                grid: grid_name.to_owned(),
                address: place.and_then(|row| address.of(row)).map(str::to_owned),
                longitude: degrees(longitude),
                latitude: degrees(latitude),
            })
        })
        .collect();
    zones.sort_by(|a, b| a.code.cmp(&b.code));
    zones
}

/// One open311 system as served.
struct System {
    auth: Auth,
    services: Vec<Service>,
    requests: Vec<ServiceRequest>,
}

/// A status update the system received.
#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub service_request_id: String,
    pub status: RequestStatus,
    pub status_notes: String,
    pub received_at: DateTime<FixedOffset>,
}

/// Every simulated open311 system, and the updates each sandbox sent them.
#[derive(Default)]
pub struct Hotlines {
    systems: HashMap<String, System>,
    /// By (sandbox, system), in the order received.
    updates: Mutex<HashMap<(String, String), Vec<Update>>>,
}

impl Hotlines {
    /// The requests of every open311 system in `configs`, on grids of the index.
    pub fn load(data: &DataSet, configs: &[&DepartmentConfig]) -> Self {
        if configs.is_empty() {
            return Self::default();
        }
        let zones = zones(data);
        let anchor = anchor(Utc::now());
        let systems = configs
            .iter()
            .map(|config| {
                let field = config
                    .open311
                    .as_ref()
                    .map_or("zone_code", |o| o.jurisdiction_field.as_str());
                let system = System {
                    auth: config.auth.clone(),
                    services: services(),
                    requests: (0..REQUESTS)
                        .map(|serial| request(serial, &zones, field, anchor))
                        .collect(),
                };
                (config.code.clone(), system)
            })
            .collect();
        Self {
            systems,
            updates: Mutex::new(HashMap::new()),
        }
    }

    pub fn serves(&self, code: &str) -> bool {
        self.systems.contains_key(code)
    }

    /// How many requests the systems hold, together.
    pub fn requests(&self) -> usize {
        self.systems.values().map(|s| s.requests.len()).sum()
    }

    fn updates(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<Update>>> {
        self.updates.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request as `sandbox` sees it: with the last status it sent, if any.
    fn current(&self, sandbox: &str, code: &str, request: &ServiceRequest) -> ServiceRequest {
        let mut request = request.clone();
        let updates = self.updates();
        let last = updates
            .get(&(sandbox.to_owned(), code.to_owned()))
            .and_then(|list| {
                list.iter()
                    .rev()
                    .find(|u| u.service_request_id == request.service_request_id)
            });
        if let Some(update) = last {
            request.status = update.status;
            request.status_notes = Some(update.status_notes.clone());
            request.updated_datetime = Some(update.received_at);
        }
        request
    }
}

/// The whole hour the simulator started in: request times are relative to it, so that
/// a restart within the hour serves the same answers.
fn anchor(now: DateTime<Utc>) -> DateTime<FixedOffset> {
    let hour = DateTime::from_timestamp(now.timestamp() / 3600 * 3600, 0).unwrap_or(now);
    hour.with_timezone(&beijing())
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

fn services() -> Vec<Service> {
    SERVICES
        .iter()
        .map(|(code, name, group, _, covers)| Service {
            service_code: (*code).to_owned(),
            service_name: (*name).to_owned(),
            description: Some((*covers).to_owned()),
            metadata: false,
            kind: Some("realtime".to_owned()),
            keywords: Some((*name).to_owned()),
            group: Some((*group).to_owned()),
        })
        .collect()
}

/// The `serial`th request: older ones first, on a grid picked by stride.
fn request(
    serial: usize,
    zones: &[Zone],
    field: &str,
    anchor: DateTime<FixedOffset>,
) -> ServiceRequest {
    let service = serial % SERVICES.len();
    let (code, name, _, agency, _) = SERVICES[service];
    let zone = if serial == OUTSIDE || zones.is_empty() {
        Zone {
            code: OUTSIDE_ZONE.to_owned(),
            county: "蛟河市".to_owned(),
            township: "新站镇".to_owned(),
            community: "新站村".to_owned(),
            grid: "新站村第1网格".to_owned(),
            address: Some("吉林省吉林市蛟河市新站镇新站村3组".to_owned()),
            longitude: Some(127.346),
            latitude: Some(43.903),
        }
    } else {
        // A stride of about half the city's grids (and no factor of their count): the
        // picks spread over every county.
        zones[(serial * 577 + 7) % zones.len()].clone()
    };
    let closed = code == "901" || serial % 10 == 9;
    let minutes = (REQUESTS - serial) as i64 * 180 + (serial as i64 * 7) % 60;
    let requested = anchor - TimeDelta::minutes(minutes);
    let description =
        DESCRIPTIONS[service][serial / SERVICES.len() % 2].replace("{c}", &zone.community);
    let address = zone.address.clone().unwrap_or_else(|| {
        format!(
            "吉林省辽源市{}{}{}",
            zone.county, zone.township, zone.community
        )
    });
    let mut extensions = Map::new();
    extensions.insert(field.to_owned(), Value::from(zone.code.clone()));
    extensions.insert("zone_name".to_owned(), Value::from(zone.grid.clone()));
    ServiceRequest {
        service_request_id: format!("LY12345-{:06}", 240_001 + serial),
        status: if closed {
            RequestStatus::Closed
        } else {
            RequestStatus::Open
        },
        status_notes: closed.then(|| "已当场答复，来电人表示满意。".to_owned()),
        service_name: Some(name.to_owned()),
        service_code: code.to_owned(),
        description: Some(description),
        agency_responsible: Some(format!("{}{agency}", zone.county)),
        service_notice: None,
        requested_datetime: requested,
        updated_datetime: Some(requested + TimeDelta::minutes(if closed { 120 } else { 20 })),
        expected_datetime: (!closed).then(|| requested + TimeDelta::days(7)),
        address: Some(address),
        address_id: None,
        zipcode: Some("136200".to_owned()),
        lat: zone.latitude,
        long: zone.longitude,
        media_url: None,
        extensions,
    }
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_sim/hotline/updates",
            get(list_updates).delete(clear_updates),
        )
        .route("/{department}/services.json", get(list_services))
        .route("/{department}/requests.json", get(list_requests))
        .route(
            "/{department}/requests/{file}",
            get(one_request).post(update),
        )
        .route(
            "/_t/{sandbox}/{department}/services.json",
            get(list_services),
        )
        .route(
            "/_t/{sandbox}/{department}/requests.json",
            get(list_requests),
        )
        .route(
            "/_t/{sandbox}/{department}/requests/{file}",
            get(one_request).post(update),
        )
}

/// An Open311 error answer.
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!([{ "code": status.as_u16(), "description": message }])),
    )
        .into_response()
}

/// The sandbox ("" outside one) and the system a path names.
fn place(path: &HashMap<String, String>) -> (String, String) {
    (
        path.get("sandbox").cloned().unwrap_or_default(),
        path.get("department").cloned().unwrap_or_default(),
    )
}

/// Counts the request, checks its credentials and plays the sandbox's fault: the fault
/// to apply to the answer, or the answer itself when the fault (or a refusal) decides it.
async fn admit(
    state: &Shared,
    system: &System,
    sandbox: &str,
    code: &str,
    ids: usize,
    headers: &HeaderMap,
) -> Result<Fault, Response> {
    let fault = state.admit(sandbox, code, ids);
    if !authorised(&system.auth, headers) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong credentials",
        ));
    }
    let delay = fault.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault.effect() {
        Effect::Hang => std::future::pending::<Result<Fault, Response>>().await,
        Effect::Fail(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err(error(status, "系统繁忙，请稍后再试"))
        }
        Effect::Answer => Ok(fault),
    }
}

/// A JSON answer, spoilt as the fault says.
fn answer(body: Value, fault: &Fault) -> Response {
    let body = match fault.garbage {
        Some(Garbage::Types) => scramble(body),
        _ => body,
    };
    let mut text = body.to_string();
    if fault.garbage == Some(Garbage::Json) {
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Every item's values but the first turned into lists: valid JSON, wrong types.
fn scramble(body: Value) -> Value {
    match body {
        Value::Array(items) => {
            Value::Array(items.into_iter().map(super::server::scramble).collect())
        }
        other => other,
    }
}

async fn list_services(
    State(state): State<Arc<Shared>>,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (sandbox, code) = place(&path);
    let Some(system) = state.hotlines.systems.get(&code) else {
        return error(StatusCode::NOT_FOUND, "no such open311 system");
    };
    match admit(&state, system, &sandbox, &code, 0, &headers).await {
        Ok(fault) => answer(serde_json::json!(system.services), &fault),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct RequestsQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    /// `open`, `closed` or both, comma-separated.
    status: Option<String>,
    /// Comma-separated.
    service_code: Option<String>,
}

/// A query's datetime, or why it is not one.
fn datetime(text: Option<&str>, name: &str) -> Result<Option<DateTime<FixedOffset>>, String> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text).map(Some).map_err(|_| {
            format!("{name} must be a W3C datetime such as 2026-11-20T09:30:00+08:00")
        }),
    }
}

async fn list_requests(
    State(state): State<Arc<Shared>>,
    Path(path): Path<HashMap<String, String>>,
    Query(query): Query<RequestsQuery>,
    headers: HeaderMap,
) -> Response {
    let (sandbox, code) = place(&path);
    let Some(system) = state.hotlines.systems.get(&code) else {
        return error(StatusCode::NOT_FOUND, "no such open311 system");
    };
    let (start, end) = match (
        datetime(query.start_date.as_deref(), "start_date"),
        datetime(query.end_date.as_deref(), "end_date"),
    ) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(reason), _) | (_, Err(reason)) => return error(StatusCode::BAD_REQUEST, &reason),
    };
    let mut statuses = Vec::new();
    for status in query.status.iter().flat_map(|s| s.split(',')) {
        match RequestStatus::parse(status.trim()) {
            Some(status) => statuses.push(status),
            None => return error(StatusCode::BAD_REQUEST, "status must be open or closed"),
        }
    }
    let services: Vec<&str> = query
        .service_code
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .collect();
    let fault = match admit(&state, system, &sandbox, &code, 0, &headers).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    let found: Vec<ServiceRequest> = system
        .requests
        .iter()
        .map(|request| state.hotlines.current(&sandbox, &code, request))
        .filter(|request| {
            // This hotline searches by the last change, so that edits come again.
            let updated = request
                .updated_datetime
                .unwrap_or(request.requested_datetime);
            start.is_none_or(|start| updated >= start)
                && end.is_none_or(|end| updated <= end)
                && (statuses.is_empty() || statuses.contains(&request.status))
                && (services.is_empty() || services.contains(&request.service_code.as_str()))
        })
        .take(fault.max_results.unwrap_or(usize::MAX))
        .collect();
    answer(serde_json::json!(found), &fault)
}

/// `LY12345-240001.json` → `LY12345-240001`.
fn request_id(path: &HashMap<String, String>) -> Option<String> {
    path.get("file")
        .and_then(|file| file.strip_suffix(".json"))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

async fn one_request(
    State(state): State<Arc<Shared>>,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (sandbox, code) = place(&path);
    let (Some(system), Some(id)) = (state.hotlines.systems.get(&code), request_id(&path)) else {
        return error(StatusCode::NOT_FOUND, "no such open311 system or request");
    };
    let fault = match admit(&state, system, &sandbox, &code, 1, &headers).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    match system.requests.iter().find(|r| r.service_request_id == id) {
        Some(request) => answer(
            serde_json::json!([state.hotlines.current(&sandbox, &code, request)]),
            &fault,
        ),
        None => error(StatusCode::NOT_FOUND, "no such service request"),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    status: String,
    #[serde(default)]
    status_notes: String,
}

async fn update(
    State(state): State<Arc<Shared>>,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
    form: Result<Form<UpdateForm>, FormRejection>,
) -> Response {
    let (sandbox, code) = place(&path);
    let (Some(system), Some(id)) = (state.hotlines.systems.get(&code), request_id(&path)) else {
        return error(StatusCode::NOT_FOUND, "no such open311 system or request");
    };
    let fault = match admit(&state, system, &sandbox, &code, 1, &headers).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, &rejection.body_text()),
    };
    let Some(status) = RequestStatus::parse(form.status.trim()) else {
        return error(StatusCode::BAD_REQUEST, "status must be open or closed");
    };
    let Some(request) = system.requests.iter().find(|r| r.service_request_id == id) else {
        return error(StatusCode::NOT_FOUND, "no such service request");
    };
    state
        .hotlines
        .updates()
        .entry((sandbox.clone(), code.clone()))
        .or_default()
        .push(Update {
            service_request_id: id,
            status,
            status_notes: form.status_notes,
            received_at: Utc::now().with_timezone(&beijing()),
        });
    answer(
        serde_json::json!([state.hotlines.current(&sandbox, &code, request)]),
        &fault,
    )
}

#[derive(Deserialize)]
struct SandboxQuery {
    #[serde(default)]
    sandbox: String,
}

/// The updates a sandbox sent, by system.
async fn list_updates(
    State(state): State<Arc<Shared>>,
    Query(query): Query<SandboxQuery>,
) -> Json<HashMap<String, Vec<Update>>> {
    Json(
        state
            .hotlines
            .updates()
            .iter()
            .filter(|((sandbox, _), _)| *sandbox == query.sandbox)
            .map(|((_, code), updates)| (code.clone(), updates.clone()))
            .collect(),
    )
}

async fn clear_updates(
    State(state): State<Arc<Shared>>,
    Query(query): Query<SandboxQuery>,
) -> StatusCode {
    state
        .hotlines
        .updates()
        .retain(|(sandbox, _), _| *sandbox != query.sandbox);
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Vec<Zone> {
        (1..=5)
            .map(|n| Zone {
                code: format!("220402008003{n:03}"),
                county: "龙山区".to_owned(),
                township: "向阳街道".to_owned(),
                community: "兴华社区".to_owned(),
                grid: format!("兴华社区第{n}网格"),
                address: None,
                longitude: None,
                latitude: None,
            })
            .collect()
    }

    #[test]
    fn requests_are_the_same_for_the_same_index_and_hour() {
        let anchor = anchor(Utc::now());
        let first: Vec<_> = (0..REQUESTS)
            .map(|s| request(s, &zones(), "zone_code", anchor))
            .collect();
        let again: Vec<_> = (0..REQUESTS)
            .map(|s| request(s, &zones(), "zone_code", anchor))
            .collect();
        assert_eq!(first, again);
        assert_eq!(
            first[OUTSIDE].extension("zone_code").as_deref(),
            Some(OUTSIDE_ZONE)
        );
        assert!(first.iter().all(|r| r.requested_datetime < anchor));
        assert!(first.iter().any(|r| r.service_code == "901"));
        assert!(first.iter().any(|r| r.status == RequestStatus::Closed));
        let text = serde_json::to_value(&first[0]).unwrap_or_default();
        assert_eq!(text["zone_code"], "220402008003003");
    }
}
