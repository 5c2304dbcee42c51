-- The 12345 hotline (and any open311 system): which event each of its service requests
-- became, and what the hotline was last told of the event's status.

CREATE TABLE hotline_requests (
    system_code        TEXT COLLATE "C" NOT NULL,   -- the open311 system's config code: 220400-12345
    service_request_id TEXT NOT NULL,               -- its id for the request (工单号)
    event_id           BIGINT NOT NULL UNIQUE REFERENCES events (id),
    service_code       TEXT NOT NULL,
    pulled_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The event status the hotline last heard of: REPORTED when pulled (the hotline knows
    -- the request is open), then every status pushed to it.
    pushed_status      TEXT NOT NULL CHECK (pushed_status IN ('REPORTED', 'ACCEPTED', 'DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'CLOSED', 'REJECTED', 'RETURNED', 'ESCALATED')),
    pushed_at          TIMESTAMPTZ,
    -- One event per request, whichever replica pulls it first.
    PRIMARY KEY (system_code, service_request_id)
);

-- Up to when each system's requests have been pulled: the next pull asks from there.
CREATE TABLE hotline_cursors (
    system_code  TEXT COLLATE "C" PRIMARY KEY,
    pulled_until TIMESTAMPTZ NOT NULL
);
