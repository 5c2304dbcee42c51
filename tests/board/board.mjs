// The dispatch board in headless Chromium (Debian's `chromium`), run by
// tests/integration/board.rs: node board.mjs <gateway> <board token> <api token> <grid> [screenshot.png]
//
// The page is opened through a TCP proxy of this script's, so that its connection can be
// cut for real. A whistle blown through the API must appear on the open board within two
// seconds; whistles blown while the connection is cut must appear once each after it is
// restored. Prints one JSON line of what it measured; exits 1 with the reason on failure.
import net from 'node:net';
import { chromium } from 'playwright-core';

const [gateway, boardToken, apiToken, grid, screenshot] = process.argv.slice(2);
const target = new URL(gateway);
const WITHIN_MS = 2000;

// ---- a proxy whose connections can be cut ------------------------------------------

const sockets = new Set();
const proxy = net.createServer((client) => {
  const upstream = net.connect(Number(target.port), target.hostname);
  for (const [from, to] of [[client, upstream], [upstream, client]]) {
    sockets.add(from);
    from.on('error', () => to.destroy());
    from.on('close', () => {
      sockets.delete(from);
      to.destroy();
    });
    from.pipe(to);
  }
});

function listen(port) {
  return new Promise((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(port, '127.0.0.1', () => resolve(proxy.address().port));
  });
}

// Refuses new connections and drops the open ones (the page's WebSocket among them).
function cut() {
  proxy.close();
  for (const socket of sockets) socket.destroy();
}

// ---- the API, called directly --------------------------------------------------------

let keys = 0;
const key = () => `board-${Date.now()}-${(keys += 1)}`;

async function mutate(query, variables) {
  const response = await fetch(new URL('/graphql', gateway), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`the API refused: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function acceptedEvent(title) {
  const reported = await mutate(
    `mutation ($input: ReportEventInput!) { reportEvent(input: $input) { event { id } } }`,
    { input: { idempotencyKey: key(), title, description: title, category: 'PROPERTY_MANAGEMENT', gridCode: grid } },
  );
  const event = reported.reportEvent.event.id;
  await mutate(
    `mutation ($key: String!, $event: ID!) { acceptEvent(idempotencyKey: $key, eventId: $event) { replayed } }`,
    { key: key(), event },
  );
  return event;
}

// Blows a whistle summoning 东辽县住建局 to `event`; the cursor of its WHISTLE entry.
async function whistle(event) {
  const data = await mutate(
    `mutation ($key: String!, $event: ID!) {
       blowWhistle(idempotencyKey: $key, eventId: $event, jurisdictionCode: "220422", note: "请到现场处置",
                   summons: [{ departmentCode: "220422-ZJ" }]) { entries { cursor kind } } }`,
    { key: key(), event },
  );
  const entry = data.blowWhistle.entries.find((e) => e.kind === 'WHISTLE');
  if (!entry) throw new Error('the whistle wrote no WHISTLE entry');
  return entry.cursor;
}

// ---- the board ---------------------------------------------------------------------

function fail(reason) {
  console.error(reason);
  process.exitCode = 1;
}

const port = await listen(0);
const url = `http://127.0.0.1:${port}/board`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('pageerror', (error) => errors.push(error.message));
  const count = (cursor) => page.locator(`#feed li[data-cursor="${cursor}"]`).count();
  const appears = (cursor, timeout) => page.waitForSelector(`#feed li[data-cursor="${cursor}"]`, { timeout });

  // Sign in the way a person does: paste the token into the form.
  await page.goto(url);
  await page.fill('#token', boardToken);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#link[data-state="live"]', { timeout: 10000 });

  const events = [];
  for (const title of ['供暖管道漏水', '楼道堆放杂物', '路灯不亮']) events.push(await acceptedEvent(title));

  // Live: a whistle through the API, on the board within two seconds.
  const blown = Date.now();
  const live = await whistle(events[0]);
  await appears(live, WITHIN_MS + 1000);
  const liveMs = Date.now() - blown;
  if (liveMs > WITHIN_MS) fail(`the whistle took ${liveMs} ms to reach the board`);

  // Cut: whistles blown meanwhile, then the connection restored.
  cut();
  await page.waitForSelector('#link[data-state="offline"]', { timeout: 10000 });
  const missed = [await whistle(events[1]), await whistle(events[2])];
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = await Promise.all(missed.map(count));
  if (before.some((n) => n !== 0)) fail(`entries appeared while the connection was cut: ${before}`);
  await listen(port);
  const restored = Date.now();
  for (const cursor of missed) await appears(cursor, 15000);
  const resumeMs = Date.now() - restored;
  await page.waitForSelector('#link[data-state="live"]', { timeout: 5000 });
  // Anything repeated would be in by now.
  await new Promise((resolve) => setTimeout(resolve, 1500));

  const counts = Object.fromEntries(await Promise.all([live, ...missed].map(async (c) => [c, await count(c)])));
  for (const [cursor, n] of Object.entries(counts)) {
    if (n !== 1) fail(`entry ${cursor} shows ${n} times`);
  }
  const shown = await page.$$eval('#feed li', (items) => items.map((item) => item.dataset.cursor));
  if (new Set(shown).size !== shown.length) fail('the feed shows an entry twice');
  const newestFirst = shown.every((c, i) => i === 0 || Number(shown[i - 1]) > Number(c));
  if (!newestFirst) fail(`the feed is out of order: ${shown.slice(0, 10)}`);
  const overdueRows = await page.locator('#summonses tr.late').count();
  const openRows = await page.locator('#summonses tr').count();
  if (openRows === 0) fail('the open summonses are not listed');
  if (errors.length) fail(`the page threw: ${errors.join('; ')}`);
  if (screenshot) await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ liveMs, resumeMs, counts, feed: shown.length, openRows, overdueRows }));
} catch (error) {
  fail(error.stack || String(error));
} finally {
  await browser.close();
  cut();
}
