// The dispatch board: signed in with a token, it follows its jurisdiction's dispatch
// signals over the GraphQL WebSocket (graphql-transport-ws) and refreshes its panels from
// /graphql and the GeoJSON exports. The last cursor received is kept in the page (and in
// sessionStorage, for a reload): after a cut connection it subscribes again after that
// cursor, so the entries missed meanwhile arrive once each, in order.
'use strict';

const TOKEN_KEY = 'board:token';
const REFRESH_MS = 30000;
const PING_MS = 20000;
const PONG_WAIT_MS = 10000;
const MAX_FEED = 200;

const KINDS = {
  REPORTED: '上报', ACCEPTED: '受理', REJECTED: '不予受理', RETURNED: '退回',
  ESCALATED: '上提', WHISTLE: '吹哨', REPORT_IN: '报到', DECLINED: '拒绝报到',
  EXTENSION_REQUESTED: '申请延期', EXTENSION_DECIDED: '延期审批', FEEDBACK: '反馈',
  RESOLVED: '办结', EVALUATED: '回访', REOPENED: '重办', CLOSED: '结案',
  OVERDUE: '超期', SUPERVISION: '督办', URGED: '催办', ASSIGNED: '交办',
  PHOTOS_ADDED: '补充照片',
};
const SUMMONS_STATUS = {
  SUMMONED: '待报到', REPORTED_IN: '已报到', ACTING: '办理中', OVERDUE: '已超期',
};
const EVENT_STATUS = {
  REPORTED: '待受理', ACCEPTED: '已受理', DISPATCHED: '已派发', IN_PROGRESS: '办理中',
  RETURNED: '退回', ESCALATED: '已上提',
};
const URGENCY = { CRITICAL: '特急', HIGH: '紧急', NORMAL: '一般', LOW: '较低' };
// The level below which the map draws: a city its townships, a county its communities.
const MAP_LEVEL = {
  CITY: 'TOWNSHIP', COUNTY: 'COMMUNITY', TOWNSHIP: 'GRID', COMMUNITY: 'GRID', GRID: 'GRID',
};

const ENTRY = `fragment entry on TimelineEntry {
  cursor kind at stateAfter detail
  actor { name }
  department { name }
  event { title }
  summons { team { grid { name } } staff { name } }
}`;
const VIEWER = `{ viewer { name role jurisdiction { code name level } department { name } } }`;
const JURISDICTION = `query ($code: String!) { jurisdiction(code: $code) { code name level } }`;
const CITY = `{ jurisdictions(level: CITY, first: 1) { nodes { code name level } } }`;
const RECENT = `query ($code: String!) {
  recentSignals(jurisdictionCode: $code, last: 30) { ...entry }
} ${ENTRY}`;
const SIGNALS = `subscription ($code: String!, $after: ID) {
  dispatchSignals(jurisdictionCode: $code, after: $after) { ...entry }
} ${ENTRY}`;
const PANELS = `query ($code: String!, $events: EventFilter!, $today: DateTime!, $since: DateTime!) {
  summonses(filter: { jurisdiction: $code, statuses: [SUMMONED, REPORTED_IN, ACTING, OVERDUE] }, first: 50) {
    totalCount
    nodes {
      id status reportInDueAt handlingDueAt reportedInAt
      department { name } team { grid { name } } staff { name }
      event { title }
    }
  }
  events(filter: $events, last: 30) {
    totalCount
    nodes { id title status urgency reportedAt dueAt overdueAt grid { name } }
  }
  today: eventStats(filter: { jurisdiction: $code, reportedFrom: $today }) {
    figures { events accepted resolved overdue summonses reportedIn responseRate satisfactionRate }
  }
  trend: eventStats(filter: { jurisdiction: $code, reportedFrom: $since }, groupBy: [DAY]) {
    day
    figures { events resolved summonses overdue }
  }
}`;

const board = {
  token: null,
  unit: null, // { code, name, level }
  cursor: null, // the last cursor received, as a string
  seen: new Set(),
  socket: null,
  retries: 0,
  summonses: [],
  timers: [],
  refreshing: null,
};

const $ = (id) => document.getElementById(id);

// An element with attributes and children (strings become text, never HTML).
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== null && value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

function svg(tag, attributes, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, value);
  for (const child of children) element.append(child instanceof Node ? child : String(child));
  return element;
}

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function authorization() {
  return { Authorization: `Bearer ${board.token}` };
}

async function graphql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authorization() },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`网关返回了无法解析的应答（HTTP ${response.status}）`);
  }
  if (body.errors && body.errors.length && !body.data) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions && first.extensions.code);
  }
  if (body.errors && body.errors.length) problem(body.errors[0].message);
  return body.data;
}

async function geojson(path) {
  const response = await fetch(path, { headers: authorization() });
  if (!response.ok) throw new ApiError(`地图数据读取失败（HTTP ${response.status}）`);
  return response.json();
}

function problem(message) {
  const element = $('problem');
  element.hidden = !message;
  element.textContent = message || '';
}

// ---- time --------------------------------------------------------------------------

const BEIJING = { timeZone: 'Asia/Shanghai', hour12: false };

// The time of day for today's moments, with the date for earlier ones.
function clock(at) {
  const time = new Date(at);
  return beijingDate(time.getTime()) === beijingDay(0) ? time.toLocaleTimeString('zh-CN', BEIJING) : dayAndTime(at);
}

function dayAndTime(at) {
  return new Date(at).toLocaleString('zh-CN', { ...BEIJING, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

// The Beijing calendar day of `time` (milliseconds), as YYYY-MM-DD.
function beijingDate(time) {
  return new Date(time + 8 * 3600e3).toISOString().slice(0, 10);
}

// The Beijing calendar day `days` before today.
function beijingDay(days) {
  return beijingDate(Date.now() - days * 86400e3);
}

function span(milliseconds) {
  const minutes = Math.floor(Math.abs(milliseconds) / 60000);
  const hours = Math.floor(minutes / 60);
  if (hours >= 48) return `${Math.floor(hours / 24)}天${hours % 24}小时`;
  return hours ? `${hours}小时${minutes % 60}分` : `${minutes}分`;
}

// ---- sign-in -----------------------------------------------------------------------

function showSignIn(message) {
  stop();
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message || '';
  $('who').textContent = '';
  $('place').textContent = '';
}

function offerDemoTokens() {
  let tokens = null;
  try {
    tokens = JSON.parse($('demo-tokens').textContent);
  } catch {
    tokens = null;
  }
  if (!Array.isArray(tokens)) return;
  const roles = $('demo-roles');
  roles.append(h('span', {}, '演示身份：'));
  for (const token of tokens) {
    const button = h('button', { type: 'button' }, token.label);
    button.addEventListener('click', () => signIn(token.token));
    roles.append(button);
  }
}

async function signIn(token) {
  localStorage.setItem(TOKEN_KEY, token);
  board.token = token;
  try {
    await open();
  } catch (error) {
    localStorage.removeItem(TOKEN_KEY);
    showSignIn(`登录失败：${error.message}`);
  }
}

function signOut() {
  localStorage.removeItem(TOKEN_KEY);
  board.token = null;
  showSignIn('');
}

// The jurisdiction the board shows: `?jurisdiction=` if given, else the token's own.
async function unitFor(viewer) {
  const asked = new URLSearchParams(location.search).get('jurisdiction');
  if (asked) {
    const data = await graphql(JURISDICTION, { code: asked });
    if (!data.jurisdiction) throw new ApiError(`辖区 ${asked} 不存在或不在您的权限范围内`);
    return data.jurisdiction;
  }
  if (viewer.jurisdiction) return viewer.jurisdiction;
  const data = await graphql(CITY);
  return data.jurisdictions.nodes[0];
}

async function open() {
  const { viewer } = await graphql(VIEWER);
  board.unit = await unitFor(viewer);
  const unit = board.unit;
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  $('place').textContent = unit.name;
  $('who').textContent = [viewer.name, viewer.department && viewer.department.name].filter(Boolean).join(' · ');
  document.title = `调度大屏 · ${unit.name}`;
  clearPanels();
  await loadRecent();
  connect();
  // The boundaries first: the refresh puts the open events on them.
  await drawBoundaries();
  await refresh();
  board.timers.push(setInterval(refresh, REFRESH_MS));
  board.timers.push(setInterval(renderSummonses, 10000));
}

function stop() {
  board.timers.forEach(clearInterval);
  board.timers = [];
  if (board.socket) {
    const socket = board.socket;
    board.socket = null;
    socket.close(1000, 'signed out');
  }
}

function clearPanels() {
  board.seen.clear();
  $('feed').replaceChildren();
  board.cursor = sessionStorage.getItem(cursorKey());
}

function cursorKey() {
  return `board:cursor:${board.unit.code}`;
}

// ---- the live feed -----------------------------------------------------------------

// The latest entries, shown on opening. A cursor kept from before a reload stays where it
// was: the subscription replays from it, and entries already shown are skipped.
async function loadRecent() {
  const resume = board.cursor;
  const data = await graphql(RECENT, { code: board.unit.code });
  data.recentSignals.forEach((entry) => add(entry, false));
  // With nothing at all to show, every entry from the beginning is new.
  board.cursor = resume || board.cursor || '0';
}

// Whom a summons is addressed to: a department, a grid's team or one person.
function addressee(department, summons) {
  return (
    (department && department.name) ||
    (summons && summons.team && summons.team.grid && `${summons.team.grid.name}网格团队`) ||
    (summons && summons.staff && summons.staff.name) ||
    ''
  );
}

function describe(entry) {
  const who = addressee(entry.department, entry.summons);
  const note = entry.detail && (entry.detail.note || entry.detail.reason || entry.detail.text);
  return { who, note };
}

function add(entry, fresh) {
  if (board.seen.has(entry.cursor)) return;
  board.seen.add(entry.cursor);
  if (board.cursor === null || Number(entry.cursor) > Number(board.cursor)) {
    board.cursor = entry.cursor;
    sessionStorage.setItem(cursorKey(), entry.cursor);
  }
  const { who, note } = describe(entry);
  const item = h(
    'li',
    { 'data-cursor': entry.cursor, 'data-kind': entry.kind, class: fresh ? 'fresh' : null },
    h('span', { class: 'kind' }, KINDS[entry.kind] || entry.kind),
    h('span', { class: 'time' }, clock(entry.at)),
    h('span', { class: 'title' }, entry.event ? entry.event.title : ''),
    h('span', { class: 'actor' }, [entry.actor.name, who && `→ ${who}`, note].filter(Boolean).join(' · ')),
  );
  const feed = $('feed');
  feed.prepend(item);
  while (feed.children.length > MAX_FEED) feed.lastElementChild.remove();
}

function linkState(state, text) {
  const element = $('link');
  element.dataset.state = state;
  element.textContent = text;
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/graphql`, 'graphql-transport-ws');
  board.socket = socket;
  let ping = null;
  let waiting = null;
  linkState('connecting', '连接中…');

  const send = (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));

  socket.addEventListener('open', () => send({ type: 'connection_init', payload: { token: board.token } }));

  socket.addEventListener('message', (message) => {
    clearTimeout(waiting);
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    switch (data.type) {
      case 'connection_ack':
        board.retries = 0;
        linkState('live', '实时');
        send({
          id: 'signals',
          type: 'subscribe',
          payload: { query: SIGNALS, variables: { code: board.unit.code, after: board.cursor } },
        });
        ping = setInterval(() => {
          send({ type: 'ping' });
          waiting = setTimeout(() => socket.close(4408, 'no answer to ping'), PONG_WAIT_MS);
        }, PING_MS);
        break;
      case 'ping':
        send({ type: 'pong' });
        break;
      case 'next':
        if (data.payload.data && data.payload.data.dispatchSignals) {
          add(data.payload.data.dispatchSignals, true);
          refreshSoon();
        } else if (data.payload.errors) {
          problem(data.payload.errors[0].message);
        }
        break;
      case 'error':
        problem(data.payload[0] ? data.payload[0].message : '订阅出错');
        break;
      case 'complete':
        socket.close(1000, 'subscription completed');
        break;
      default:
        break;
    }
  });

  socket.addEventListener('close', (event) => {
    clearInterval(ping);
    clearTimeout(waiting);
    if (board.socket !== socket) return; // signed out, or replaced
    board.socket = null;
    if (event.code === 4401 || event.code === 4403) {
      localStorage.removeItem(TOKEN_KEY);
      showSignIn(`连接被拒绝：${event.reason || '令牌无效或已过期'}，请重新登录`);
      return;
    }
    const delay = Math.min(5000, 250 * 2 ** board.retries);
    board.retries += 1;
    linkState('offline', `连接中断，${Math.ceil(delay / 1000)}秒后重连`);
    setTimeout(() => {
      if (board.token && !board.socket) connect();
    }, delay);
  });
}

// ---- panels ------------------------------------------------------------------------

function refreshSoon() {
  clearTimeout(board.refreshing);
  board.refreshing = setTimeout(refresh, 1000);
}

async function refresh() {
  const unit = board.unit;
  const atLevel = ['CITY', 'COUNTY', 'TOWNSHIP'].includes(unit.level);
  const variables = {
    code: unit.code,
    events: atLevel ? { handlingLevel: unit.code, open: true } : { jurisdiction: unit.code, open: true },
    today: `${beijingDay(0)}T00:00:00+08:00`,
    since: `${beijingDay(29)}T00:00:00+08:00`,
  };
  try {
    const data = await graphql(PANELS, variables);
    if (board.unit !== unit) return;
    board.summonses = data.summonses.nodes;
    $('summons-count').textContent = `共 ${data.summonses.totalCount} 件`;
    renderSummonses();
    renderEvents(data.events, atLevel);
    renderToday(data.today[0] && data.today[0].figures);
    renderTrend(data.trend);
    await drawEvents();
    problem('');
  } catch (error) {
    problem(`刷新失败：${error.message}`);
  }
}

// The next deadline of a summons: reporting in until reported, then handling.
function deadline(summons) {
  return new Date(summons.reportedInAt ? summons.handlingDueAt : summons.reportInDueAt);
}

function renderSummonses() {
  const now = Date.now();
  const rows = board.summonses.map((summons) => {
    const due = deadline(summons);
    const left = due - now;
    const late = summons.status === 'OVERDUE' || left < 0;
    const who = addressee(summons.department, summons);
    const phase = summons.reportedInAt ? '办结' : '报到';
    return h(
      'tr',
      { class: late ? 'late' : null, 'data-summons': summons.id },
      h('td', {}, who),
      h('td', {}, summons.event ? summons.event.title : ''),
      h('td', { class: 'state' }, SUMMONS_STATUS[summons.status] || summons.status),
      h('td', { class: 'due', title: dayAndTime(due) }, left < 0 ? `${phase}超期 ${span(left)}` : `${phase}剩 ${span(left)}`),
    );
  });
  $('summonses').replaceChildren(...rows);
}

function renderEvents(events, atLevel) {
  $('events-count').textContent = `共 ${events.totalCount} 件${atLevel ? '（本级承办）' : ''}`;
  const now = Date.now();
  const items = events.nodes.slice().reverse().map((event) => {
    const late = event.overdueAt || (event.dueAt && new Date(event.dueAt) < now);
    return h(
      'li',
      { class: late ? 'late' : null, 'data-event': event.id },
      h('span', { class: `dot urgency-${event.urgency}`, title: URGENCY[event.urgency] }),
      ' ',
      event.title,
      h('div', { class: 'meta' }, [
        EVENT_STATUS[event.status] || event.status,
        event.grid && event.grid.name,
        `上报 ${dayAndTime(event.reportedAt)}`,
        event.dueAt && `${late ? '已超期' : '时限'} ${dayAndTime(event.dueAt)}`,
      ].filter(Boolean).join(' · ')),
    );
  });
  $('events').replaceChildren(...items);
}

function rate(value) {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

function renderToday(figures) {
  $('figures-day').textContent = beijingDay(0);
  const f = figures || {};
  const cards = [
    ['上报', f.events || 0], ['受理', f.accepted || 0], ['办结', f.resolved || 0], ['超期', f.overdue || 0],
    ['吹哨', f.summonses || 0], ['报到', f.reportedIn || 0], ['响应率', rate(f.responseRate)], ['满意率', rate(f.satisfactionRate)],
  ];
  $('today').replaceChildren(...cards.map(([label, value]) => h('div', { class: 'figure' }, h('b', {}, value), h('span', {}, label))));
}

const SERIES = [
  ['events', '上报', '#4fc3f7'],
  ['resolved', '办结', '#66bb6a'],
  ['summonses', '吹哨', '#ffb74d'],
  ['overdue', '超期', '#ef5350'],
];

function renderTrend(groups) {
  const days = Array.from({ length: 30 }, (_, i) => beijingDay(29 - i));
  const byDay = new Map(groups.map((group) => [group.day, group.figures]));
  const width = 600;
  const height = 160;
  const left = 30;
  const bottom = 18;
  const top = 8;
  const max = Math.max(1, ...days.flatMap((day) => SERIES.map(([key]) => (byDay.get(day) || {})[key] || 0)));
  const x = (i) => left + (i * (width - left - 8)) / (days.length - 1);
  const y = (value) => top + (height - top - bottom) * (1 - value / max);
  const chart = $('trend');
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const parts = [
    svg('line', { class: 'axis', x1: left, y1: y(0), x2: width - 8, y2: y(0) }),
    svg('text', { x: left - 4, y: y(max) + 4, 'text-anchor': 'end' }, max),
    svg('text', { x: left - 4, y: y(0), 'text-anchor': 'end' }, 0),
  ];
  days.forEach((day, i) => {
    if (i % 5 === 4 || i === 0) parts.push(svg('text', { x: x(i), y: height - 4, 'text-anchor': 'middle' }, day.slice(5)));
  });
  for (const [key, , colour] of SERIES) {
    const points = days.map((day, i) => `${x(i).toFixed(1)},${y((byDay.get(day) || {})[key] || 0).toFixed(1)}`);
    parts.push(svg('polyline', { points: points.join(' '), stroke: colour, 'data-series': key }));
  }
  chart.replaceChildren(...parts);
  $('trend-legend').replaceChildren(...SERIES.flatMap(([, label, colour]) => [h('i', { style: `background:${colour}` }), label]));
}

// ---- the map -----------------------------------------------------------------------

const map = { project: null, layer: null, extent: 0 };

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
}

async function drawBoundaries() {
  const unit = board.unit;
  const level = MAP_LEVEL[unit.level] || 'GRID';
  const query = new URLSearchParams({ jurisdiction: unit.code, level });
  let collection;
  try {
    collection = await geojson(`/export/boundaries.geojson?${query}`);
  } catch (error) {
    $('map-note').textContent = error.message;
    return;
  }
  const shapes = collection.features.filter((feature) => rings(feature.geometry).length);
  const points = shapes.flatMap((feature) => rings(feature.geometry).flat());
  const chart = $('map');
  if (!points.length) {
    $('map-note').textContent = '辖区暂无边界数据';
    chart.replaceChildren();
    return;
  }
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const [west, east, south, north] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  // Equirectangular, shrunk east-west by the latitude: right enough for a city.
  const squeeze = Math.cos((((south + north) / 2) * Math.PI) / 180);
  const scale = 1000 / Math.max((east - west) * squeeze, north - south);
  map.project = ([lon, lat]) => [(lon - west) * squeeze * scale, (north - lat) * scale];
  const [w, hgt] = map.project([east, south]);
  map.extent = Math.max(w, hgt);
  chart.setAttribute('viewBox', `-5 -5 ${(w + 10).toFixed(1)} ${(hgt + 10).toFixed(1)}`);
  const paths = shapes.map((feature) => {
    const d = rings(feature.geometry)
      .map((ring) => `M${ring.map((p) => map.project(p).map((v) => v.toFixed(1)).join(',')).join('L')}Z`)
      .join('');
    return svg('path', { d, 'data-code': feature.properties.code }, svg('title', {}, feature.properties.name));
  });
  const labels = shapes.length > 40 ? [] : shapes.map((feature) => {
    const ring = rings(feature.geometry)[0];
    const [cx, cy] = ring.reduce(([sx, sy], p) => { const [px, py] = map.project(p); return [sx + px / ring.length, sy + py / ring.length]; }, [0, 0]);
    return svg('text', { x: cx.toFixed(1), y: cy.toFixed(1), 'font-size': (Math.max(w, hgt) / 50).toFixed(1) }, feature.properties.name);
  });
  map.layer = svg('g', { id: 'map-events' });
  chart.replaceChildren(...paths, ...labels, map.layer);
  $('map-note').textContent = `${shapes.length} 个${{ TOWNSHIP: '街乡', COMMUNITY: '社区（村）', GRID: '网格' }[level]}`;
}

async function drawEvents() {
  if (!map.project || !map.layer) return;
  const query = new URLSearchParams({ jurisdiction: board.unit.code, open: 'true' });
  const collection = await geojson(`/export/events.geojson?${query}`);
  const dots = collection.features
    .filter((feature) => feature.geometry && feature.geometry.type === 'Point')
    .map((feature) => {
      const [x, y] = map.project(feature.geometry.coordinates);
      const p = feature.properties;
      return svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: (map.extent / 120).toFixed(1), class: `urgency-${p.urgency}` },
        svg('title', {}, `${p.title}（${URGENCY[p.urgency] || p.urgency}）`));
    });
  map.layer.replaceChildren(...dots);
}

// ---- start -------------------------------------------------------------------------

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim().replace(/^Bearer\s+/i, '');
  if (token) signIn(token);
});
$('sign-out').addEventListener('click', signOut);
offerDemoTokens();
const saved = localStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved);
else showSignIn('');
