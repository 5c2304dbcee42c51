// Real clients against a running gateway: the GraphQL-over-HTTP audit of `graphql-http`
// (every MUST and SHOULD), and the `graphql-ws` client in lazy mode, which closes the
// socket between operations and reopens it, doing a query, a mutation with an
// idempotency key and a subscription that receives a whistle.
//
//   node tests/conformance/clients.mjs http://127.0.0.1:8080/graphql [token]
//
// Prints a line per failure and a closing `N passed, M failed`; exits 1 on any failure.
import { auditServer } from "graphql-http";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token] = process.argv.slice(2);
if (!url) {
  console.error("usage: clients.mjs <graphql url> [token]");
  process.exit(2);
}
const authorization = token ? { authorization: `Bearer ${token}` } : {};
let passed = 0;
let failed = 0;
const check = (ok, what) => {
  if (ok) {
    passed += 1;
  } else {
    failed += 1;
    console.log(`FAILED ${what}`);
  }
};

// 1. The audit: notices are suggestions, warnings are SHOULDs, errors MUSTs.
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers || {}), ...authorization } });
for (const result of await auditServer({ url, fetchFn })) {
  if (result.status === "notice") continue;
  check(result.status === "ok", `${result.id} ${result.name}: ${result.reason ?? ""}`);
}

// 2. graphql-ws, lazy: the socket closes as soon as no operation runs, and reopens.
const closes = [];
const errors = [];
const client = createClient({
  url: url.replace(/^http/, "ws"),
  webSocketImpl: WebSocket,
  lazy: true,
  lazyCloseTimeout: 0,
  retryAttempts: 0,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  on: {
    closed: (event) => closes.push(event.code),
    error: (error) => errors.push(String(error?.message ?? error)),
  },
});
const once = (payload) =>
  new Promise((resolve, reject) => {
    let last;
    client.subscribe(payload, {
      next: (result) => (last = result),
      error: (error) => reject(new Error(JSON.stringify(error))),
      complete: () => resolve(last),
    });
  });
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

for (let round = 0; round < 3; round += 1) {
  try {
    const result = await once({ query: '{ jurisdiction(code: "220402") { name } }' });
    check(result?.data?.jurisdiction?.name === "龙山区", `lazy query ${round}: ${JSON.stringify(result)}`);
  } catch (error) {
    check(false, `lazy query ${round}: ${error.message}`);
  }
  // Lets the lazy client close the socket before the next operation opens another.
  await pause(100);
}
check(closes.length >= 2 && closes.every((code) => code === 1000), `clean closes: ${closes}`);

// A subscription receives the whistle a mutation blows.
const signals = [];
const subscribed = new Promise((resolve, reject) => {
  const stop = client.subscribe(
    { query: 'subscription { dispatchSignals(departmentCode: "220422-XJ") { kind event { id } } }' },
    {
      next: (result) => {
        signals.push(result);
        if (result?.data?.dispatchSignals?.kind === "WHISTLE") {
          stop();
          resolve();
        }
      },
      error: (error) => reject(new Error(JSON.stringify(error))),
      complete: () => resolve(),
    },
  );
});
const key = `clients-${process.pid}`;
const mutate = (query, variables) => once({ query, variables });
try {
  await pause(200);
  const reported = await mutate(
    `mutation($k: String!) { reportEvent(input: { idempotencyKey: $k, description: "客户端测试",
       category: SAFETY_HAZARD, gridCode: "220422001001001" }) { event { id } } }`,
    { k: `${key}-report` },
  );
  const event = reported?.data?.reportEvent?.event?.id;
  check(Boolean(event), `reportEvent: ${JSON.stringify(reported)}`);
  await mutate(
    "mutation($k: String!, $e: ID!) { acceptEvent(idempotencyKey: $k, eventId: $e) { replayed } }",
    { k: `${key}-accept`, e: event },
  );
  const whistle = await mutate(
    `mutation($k: String!, $e: ID!) { blowWhistle(idempotencyKey: $k, eventId: $e,
       jurisdictionCode: "220422001", summons: [{ departmentCode: "220422-XJ" }]) { replayed } }`,
    { k: `${key}-whistle`, e: event },
  );
  check(whistle?.data?.blowWhistle?.replayed === false, `blowWhistle: ${JSON.stringify(whistle)}`);
  await Promise.race([subscribed, pause(15000).then(() => Promise.reject(new Error("no whistle in 15 s")))]);
  check(signals.some((s) => s?.data?.dispatchSignals?.kind === "WHISTLE"), "the subscription received the whistle");
} catch (error) {
  check(false, `workflow over graphql-ws: ${error.message}`);
}
await client.dispose();
check(errors.length === 0, `client errors: ${errors.join("; ")}`);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
