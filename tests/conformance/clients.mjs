// Real clients against a running gateway: the GraphQL-over-HTTP audit of `graphql-http`
// (every MUST and SHOULD); the `graphql-ws` client in lazy mode, which closes the socket
// between operations and reopens it, and in eager mode; and Apollo Client, urql, graphql-request and the
// legacy subscriptions-transport-ws client. Each does a query, a mutation with an
// idempotency key and (all but graphql-request, which has none) a subscription that
// receives the whistle its own mutations blow.
//
//   node tests/conformance/clients.mjs http://127.0.0.1:8080/graphql [token]
//
// Prints a line per failure and a closing `N passed, M failed`; exits 1 on any failure.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from "@urql/core";
import { GraphQLClient } from "graphql-request";
import { auditServer } from "graphql-http";
import { createClient } from "graphql-ws";
import { SubscriptionClient } from "subscriptions-transport-ws";
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

// An eager client keeps one socket from the start: operations go over it in turn.
{
  const eager = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const ask = (payload) =>
    new Promise((resolve, reject) => {
      let last;
      eager.subscribe(payload, {
        next: (result) => (last = result),
        error: (error) => reject(new Error(JSON.stringify(error))),
        complete: () => resolve(last),
      });
    });
  try {
    for (const code of ["220402", "220403"]) {
      const result = await ask({ query: `{ jurisdiction(code: "${code}") { code } }` });
      check(result?.data?.jurisdiction?.code === code, `eager query: ${JSON.stringify(result)}`);
    }
  } catch (error) {
    check(false, `eager client: ${error.message}`);
  }
  await eager.dispose();
}

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

// 3. The popular clients, each through the same workflow.
const wsUrl = url.replace(/^http/, "ws");
const connectionParams = token ? { Authorization: `Bearer ${token}` } : {};
const QUERY = '{ jurisdiction(code: "220402") { name } }';
const REPORT = `mutation($k: String!) { reportEvent(input: { idempotencyKey: $k, description: "客户端测试",
  category: SAFETY_HAZARD, gridCode: "220422001001001" }) { replayed event { id } } }`;
const ACCEPT = "mutation($k: String!, $e: ID!) { acceptEvent(idempotencyKey: $k, eventId: $e) { replayed } }";
const WHISTLE = `mutation($k: String!, $e: ID!) { blowWhistle(idempotencyKey: $k, eventId: $e,
  jurisdictionCode: "220422001", summons: [{ departmentCode: "220422-SF" }]) { replayed } }`;
const SIGNALS = 'subscription { dispatchSignals(departmentCode: "220422-SF") { kind event { id } } }';

/// client: { query(doc, vars) -> data, mutate(doc, vars) -> data, subscribe?(doc, onData) -> stop }
async function exercise(name, client) {
  try {
    const data = await client.query(QUERY, {});
    check(data?.jurisdiction?.name === "龙山区", `${name} query: ${JSON.stringify(data)}`);
    const key = `${name}-${process.pid}`;
    const first = await client.mutate(REPORT, { k: `${key}-report` });
    const again = await client.mutate(REPORT, { k: `${key}-report` });
    const event = first?.reportEvent?.event?.id;
    check(first?.reportEvent?.replayed === false && Boolean(event), `${name} mutation: ${JSON.stringify(first)}`);
    check(again?.reportEvent?.replayed === true, `${name} retried mutation: ${JSON.stringify(again)}`);
    if (!client.subscribe) return;
    let stop = () => {};
    const whistled = new Promise((resolve) => {
      stop = client.subscribe(SIGNALS, (signal) => {
        if (signal?.dispatchSignals?.kind === "WHISTLE" && signal.dispatchSignals.event?.id === event) resolve();
      });
    });
    await pause(300);
    await client.mutate(ACCEPT, { k: `${key}-accept`, e: event });
    await client.mutate(WHISTLE, { k: `${key}-whistle`, e: event });
    const received = await Promise.race([whistled.then(() => true), pause(15000).then(() => false)]);
    stop();
    check(received, `${name} subscription received its whistle`);
  } catch (error) {
    check(false, `${name}: ${error?.message ?? error}`);
  }
}

// Apollo Client 4: HTTP for queries and mutations, graphql-ws for subscriptions.
{
  const wsClient = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: url, headers: authorization }),
  );
  const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
  await exercise("apollo", {
    query: async (doc, variables) =>
      (await apollo.query({ query: gql(doc), variables, fetchPolicy: "no-cache" })).data,
    mutate: async (doc, variables) => (await apollo.mutate({ mutation: gql(doc), variables })).data,
    subscribe: (doc, onData) => {
      const subscription = apollo.subscribe({ query: gql(doc) }).subscribe({
        next: (result) => onData(result.data),
      });
      return () => subscription.unsubscribe();
    },
  });
  apollo.stop();
  await wsClient.dispose();
}

// urql: fetch for queries and mutations, graphql-ws for subscriptions.
{
  const wsClient = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams });
  const urql = new UrqlClient({
    url,
    fetchOptions: { headers: authorization },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: wsClient.subscribe({ ...request, query: request.query || "" }, sink),
          }),
        }),
      }),
    ],
  });
  const unwrap = (result) => {
    if (result.error) throw new Error(result.error.message);
    return result.data;
  };
  await exercise("urql", {
    query: async (doc, variables) =>
      unwrap(await urql.query(doc, variables, { requestPolicy: "network-only" }).toPromise()),
    mutate: async (doc, variables) => unwrap(await urql.mutation(doc, variables).toPromise()),
    subscribe: (doc, onData) => {
      const { unsubscribe } = urql.subscription(doc, {}).subscribe((result) => onData(result.data));
      return unsubscribe;
    },
  });
  await wsClient.dispose();
}

// graphql-request: HTTP only.
{
  const client = new GraphQLClient(url, { headers: authorization });
  await exercise("graphql-request", {
    query: (doc, variables) => client.request(doc, variables),
    mutate: (doc, variables) => client.request(doc, variables),
  });
}

// subscriptions-transport-ws, the legacy protocol, for everything.
{
  const legacy = new SubscriptionClient(
    wsUrl,
    { reconnect: false, lazy: true, connectionParams },
    WebSocket,
  );
  const run = (doc, variables) =>
    new Promise((resolve, reject) => {
      let data;
      legacy.request({ query: doc, variables }).subscribe({
        next: (result) => {
          if (result.errors) reject(new Error(JSON.stringify(result.errors)));
          data = result.data;
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(data),
      });
    });
  await exercise("subscriptions-transport-ws", {
    query: run,
    mutate: run,
    subscribe: (doc, onData) => {
      const subscription = legacy.request({ query: doc }).subscribe({
        next: (result) => onData(result.data),
      });
      return () => subscription.unsubscribe();
    },
  });
  legacy.close();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
