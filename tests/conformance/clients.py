"""Python's gql against a running gateway: a query and a mutation with an idempotency key
over HTTP (aiohttp), and a subscription over WebSocket, in both subprotocols, that
receives the whistle its own mutations blow.

    python clients.py http://127.0.0.1:8080/graphql [token]

Prints a line per failure and a closing `N passed, M failed`; exits 1 on any failure.
"""

import asyncio
import os
import sys

from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport

REPORT = """mutation($k: String!) { reportEvent(input: { idempotencyKey: $k,
  description: "Python 客户端", category: SAFETY_HAZARD, gridCode: "220422001001001" }) {
  replayed event { id } } }"""
ACCEPT = "mutation($k: String!, $e: ID!) { acceptEvent(idempotencyKey: $k, eventId: $e) { replayed } }"
WHISTLE = """mutation($k: String!, $e: ID!) { blowWhistle(idempotencyKey: $k, eventId: $e,
  jurisdictionCode: "220422001", summons: [{ departmentCode: "220422-WJ" }]) { replayed } }"""
SIGNALS = 'subscription { dispatchSignals(departmentCode: "220422-WJ") { kind event { id } } }'

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED {what}")


def request(text, **variables):
    document = gql(text)
    document.variable_values = variables
    return document


async def main(url, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    ws_url = url.replace("http", "ws", 1)
    http = Client(transport=AIOHTTPTransport(url=url, headers=headers))
    async with http as session:
        data = await session.execute(request('{ jurisdiction(code: "220402") { name } }'))
        check(data["jurisdiction"]["name"] == "龙山区", f"gql query: {data}")
        for protocol in [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, WebsocketsTransport.APOLLO_SUBPROTOCOL]:
            key = f"gql-{protocol}-{os.getpid()}"
            first = await session.execute(request(REPORT, k=f"{key}-report"))
            again = await session.execute(request(REPORT, k=f"{key}-report"))
            event = first["reportEvent"]["event"]["id"]
            check(not first["reportEvent"]["replayed"] and again["reportEvent"]["replayed"],
                  f"gql mutation and its retry: {first} {again}")
            transport = WebsocketsTransport(url=ws_url, init_payload=headers, subprotocols=[protocol])
            async with Client(transport=transport) as live:
                async def whistled():
                    async for signal in live.subscribe(request(SIGNALS)):
                        found = signal["dispatchSignals"]
                        if found["kind"] == "WHISTLE" and found["event"]["id"] == event:
                            return True
                    return False
                waiting = asyncio.create_task(whistled())
                await asyncio.sleep(0.3)
                await session.execute(request(ACCEPT, k=f"{key}-accept", e=event))
                await session.execute(request(WHISTLE, k=f"{key}-whistle", e=event))
                try:
                    received = await asyncio.wait_for(waiting, 15)
                except asyncio.TimeoutError:
                    received = False
                check(received, f"gql subscription over {protocol} received its whistle")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: clients.py <graphql url> [token]", file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
    except Exception as error:  # a client that fails outright is one failure, reported
        check(False, f"gql: {error!r}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)
