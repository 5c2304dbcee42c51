-- The dispatch workflow (吹哨/报到): whistles summoning departments to an event, each
-- summons with its deadlines, the append-only timeline of every change, the outbox the
-- relay publishes from, and idempotency keys of mutations.

ALTER TABLE events
    ADD COLUMN photos          TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN revisit_comment TEXT,
    ADD COLUMN reworks         INTEGER NOT NULL DEFAULT 0;

-- One whistle on an event, blown by a level (a township, usually) at its jurisdiction.
CREATE TABLE whistles (
    id                BIGSERIAL PRIMARY KEY,
    event_id          BIGINT NOT NULL REFERENCES events (id),
    jurisdiction_code TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    note              TEXT NOT NULL DEFAULT '',
    blown_by          TEXT NOT NULL,
    blown_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX whistles_event_idx ON whistles (event_id);

-- One department summoned by a whistle.
CREATE TABLE summonses (
    id                   BIGSERIAL PRIMARY KEY,
    whistle_id           BIGINT NOT NULL REFERENCES whistles (id),
    event_id             BIGINT NOT NULL REFERENCES events (id),
    department_code      TEXT COLLATE "C" NOT NULL REFERENCES departments (code),
    status               TEXT NOT NULL CHECK (status IN ('SUMMONED', 'REPORTED_IN', 'ACTING', 'DONE', 'DECLINED', 'OVERDUE')),
    report_in_due_at     TIMESTAMPTZ NOT NULL,
    handling_due_at      TIMESTAMPTZ NOT NULL,
    reported_in_at       TIMESTAMPTZ,
    done_at              TIMESTAMPTZ,
    decline_reason       TEXT,
    -- A pending request for more time (延期), until decided.
    extension_until      TIMESTAMPTZ,
    extension_reason     TEXT,
    feedback             TEXT,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX summonses_event_idx ON summonses (event_id);
CREATE INDEX summonses_department_idx ON summonses (department_code, status);
-- What the deadline watcher looks at.
CREATE INDEX summonses_report_in_due_idx ON summonses (report_in_due_at) WHERE status = 'SUMMONED';
CREATE INDEX summonses_handling_due_idx ON summonses (handling_due_at) WHERE status IN ('REPORTED_IN', 'ACTING');

-- Every change to an event or its summonses, in the order they were committed: writers
-- take one advisory lock before appending, so ids (the cursors subscribers resume from)
-- are assigned in commit order, with no gaps that fill in later.
CREATE TABLE timeline (
    id                BIGSERIAL PRIMARY KEY,
    event_id          BIGINT NOT NULL REFERENCES events (id),
    summons_id        BIGINT REFERENCES summonses (id),
    kind              TEXT NOT NULL,
    actor             TEXT NOT NULL,
    actor_role        TEXT NOT NULL,
    actor_department  TEXT,
    -- The department the entry concerns (the one summoned, reporting in, ...).
    department_code   TEXT COLLATE "C" REFERENCES departments (code),
    -- The event's jurisdiction when the entry was written (subscriptions filter on it).
    jurisdiction_code TEXT COLLATE "C" NOT NULL,
    state_before      TEXT,
    state_after       TEXT,
    detail            JSONB NOT NULL DEFAULT '{}',
    at                TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX timeline_event_idx ON timeline (event_id, id);
CREATE INDEX timeline_department_idx ON timeline (department_code, id);

CREATE FUNCTION timeline_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline entries are never changed or deleted';
END $$;
CREATE TRIGGER timeline_append_only BEFORE UPDATE OR DELETE ON timeline
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_is_append_only();

-- Timeline entries still to be published to Redis by the relay.
CREATE TABLE outbox (
    timeline_id  BIGINT PRIMARY KEY REFERENCES timeline (id),
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished_idx ON outbox (timeline_id) WHERE published_at IS NULL;

-- A mutation's idempotency key and what it did, so that a retry returns the first result.
CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    operation  TEXT NOT NULL,
    event_id   BIGINT NOT NULL REFERENCES events (id),
    -- The timeline entries the first call appended.
    first_entry BIGINT NOT NULL,
    last_entry  BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
