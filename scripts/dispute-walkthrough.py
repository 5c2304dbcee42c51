#!/usr/bin/env python3
"""Takes two neighbours' disputes of 白泉镇 through the demo's simulated justice bureau
and court (docs/WORKFLOW.md, "Walkthrough on the demo"):

    scripts/dispute-walkthrough.py http://127.0.0.1:8080 "$TOKEN"   # an ADMIN token

One is mediated to an agreement the court confirms; the other fails mediation and is
filed in court. Exits non-zero, saying where, if a step does not come out as described.
"""

import json
import sys
import time
import urllib.request
import uuid

GRID = "220422001001001"


def call(url, token, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url + "/graphql",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/graphql-response+json",
            "Authorization": "Bearer " + token,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        answer = json.load(error)
    if answer.get("errors"):
        sys.exit("error: " + json.dumps(answer["errors"], ensure_ascii=False))
    return answer["data"]


def step(url, token, mutation, event, arguments=""):
    query = (
        "mutation($k: String!, $e: ID!) { %s(idempotencyKey: $k, eventId: $e%s) "
        "{ event { status tier } } }" % (mutation, arguments)
    )
    data = call(url, token, query, {"k": str(uuid.uuid4()), "e": event})
    event_now = data[mutation]["event"]
    print(f"  {mutation:<28} status {event_now['status']:<12} tier {event_now['tier']}")
    return event_now


DISPUTE = """query($id: ID!) { event(id: $id) {
  status tier resolutionTier
  mediations { status filing caseNumber confirmation confirmationCaseNumber confirmationRefusal }
  departmentWrites { operation status attempts lastError caseNumber }
  mediationCase { caseNumber committee outcome }
  courtCase { caseNumber causeOfAction status }
  timeline { kind }
} }"""


def until(url, token, event, what, done):
    for _ in range(100):
        dispute = call(url, token, DISPUTE, {"id": event})["event"]
        if done(dispute):
            return dispute
        time.sleep(0.2)
    sys.exit(f"error: {what} did not happen within 20 s: "
             + json.dumps(dispute, ensure_ascii=False))


def report(url, token, description):
    data = call(
        url,
        token,
        "mutation($k: String!, $d: String!, $g: String!) { reportEvent(input: { "
        "idempotencyKey: $k, description: $d, category: NEIGHBOR_DISPUTE, gridCode: $g }) "
        "{ event { id } } }",
        {"k": str(uuid.uuid4()), "d": description, "g": GRID},
    )
    event = data["reportEvent"]["event"]["id"]
    print(f"reported {event}: {description}")
    step(url, token, "acceptEvent", event)
    step(url, token, "referToMediation", event,
         f', kind: PEOPLES, teamGridCode: "{GRID}"')
    filed = until(url, token, event, "the justice bureau registering the case",
                  lambda d: d["mediations"][0]["filing"] == "FILED")
    case = filed["mediationCase"] or {}
    print(f"  justice bureau registered     {filed['mediations'][0]['caseNumber']} "
          f"({case.get('committee')}, {case.get('outcome')})")
    return event


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    url, token = sys.argv[1].rstrip("/"), sys.argv[2]

    agreed = report(url, token, "楼上漏水泡坏楼下吊顶，双方就赔偿协商不成")
    step(url, token, "recordMediation", agreed,
         ', outcome: AGREEMENT, agreement: "楼上住户赔偿吊顶维修费两千元，十日内付清"')
    step(url, token, "requestJudicialConfirmation", agreed)
    confirmed = until(url, token, agreed, "the court deciding the confirmation",
                      lambda d: d["mediations"][0]["confirmation"] not in (None, "REQUESTED"))
    mediation = confirmed["mediations"][0]
    print(f"  court decided                 {mediation['confirmation']} "
          f"{mediation['confirmationCaseNumber'] or mediation['confirmationRefusal']}")
    if mediation["confirmation"] != "CONFIRMED":
        sys.exit("error: the agreement was not confirmed")
    step(url, token, "resolveEvent", agreed)
    done = call(url, token, DISPUTE, {"id": agreed})["event"]
    print("  resolved at", done["resolutionTier"], "; timeline:",
          " ".join(entry["kind"] for entry in done["timeline"]))

    failed = report(url, token, "相邻建房遮挡采光，双方争执不下")
    step(url, token, "recordMediation", failed, ", outcome: FAILED")
    step(url, token, "referToCourt", failed, ', reason: "调解不成，当事人要求诉讼"')
    filed = until(url, token, failed, "the court filing the case",
                  lambda d: (d["courtCase"] or {}).get("caseNumber"))
    court = filed["courtCase"]
    print(f"  court filed                   {court['caseNumber']} "
          f"({court['causeOfAction']}, {court['status']})")
    print("  timeline:", " ".join(entry["kind"] for entry in filed["timeline"]))


if __name__ == "__main__":
    main()
