-- 诉调一体: a dispute moves from the window (窗口) to mediation (调解) and only then to
-- court (诉讼). The event's current tier, its mediations, and what the gateway asks
-- department systems to do about it (the write outbox).

-- The tier an event is at now; `resolution_tier` keeps the one it was resolved at.
ALTER TABLE events
    ADD COLUMN tier TEXT NOT NULL DEFAULT 'WINDOW'
        CHECK (tier IN ('WINDOW', 'MEDIATION', 'LITIGATION'));
UPDATE events SET tier = resolution_tier WHERE resolution_tier IS NOT NULL;

-- One referral to mediation and its outcome; an event may be mediated again after a
-- failed one.
CREATE TABLE mediations (
    id                       BIGSERIAL PRIMARY KEY,
    event_id                 BIGINT NOT NULL REFERENCES events (id),
    kind                     TEXT NOT NULL
        CHECK (kind IN ('PEOPLES', 'INDUSTRY', 'LAWYER', 'ADMINISTRATIVE')),
    -- Who mediates: one mediator, or a grid's 法官进网格 team.
    mediator_id              BIGINT REFERENCES staff (id),
    team_grid                TEXT COLLATE "C" REFERENCES jurisdictions (code),
    status                   TEXT NOT NULL DEFAULT 'REFERRED'
        CHECK (status IN ('REFERRED', 'AGREEMENT', 'PARTIAL', 'FAILED')),
    agreement                TEXT,
    -- The case the justice bureau registered: NULL until it answers (or when the county
    -- has no justice bureau system), then FILED or REFUSED.
    filing                   TEXT CHECK (filing IN ('PENDING', 'FILED', 'REFUSED')),
    case_number              TEXT,
    filing_refusal           TEXT,
    -- 司法确认: requested, then confirmed or refused by the court.
    confirmation             TEXT CHECK (confirmation IN ('REQUESTED', 'CONFIRMED', 'REFUSED')),
    confirmation_case_number TEXT,
    confirmation_refusal     TEXT,
    referred_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_at              TIMESTAMPTZ,
    confirmation_decided_at  TIMESTAMPTZ,
    CONSTRAINT mediations_one_mediator CHECK (num_nonnulls(mediator_id, team_grid) = 1)
);
CREATE INDEX mediations_event_idx ON mediations (event_id, id);

-- What the gateway asks department systems to do (file a mediation case, ask for
-- judicial confirmation, file a court case, register a petition), written in the transaction of the change
-- that asks, then sent by whichever replica claims it, with the same idempotency key on
-- every try, until the department answers FILED or REFUSED.
CREATE TABLE department_writes (
    id              BIGSERIAL PRIMARY KEY,
    event_id        BIGINT NOT NULL REFERENCES events (id),
    mediation_id    BIGINT REFERENCES mediations (id),
    department_code TEXT COLLATE "C" NOT NULL REFERENCES departments (code),
    operation       TEXT NOT NULL
        CHECK (operation IN ('file_mediation', 'request_confirmation', 'file_case',
                             'register_petition')),
    idempotency_key UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    payload         JSONB NOT NULL,
    -- PENDING: not answered yet; AWAITING: taken in, the department decides later.
    status          TEXT NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'AWAITING', 'FILED', 'REFUSED')),
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    department_id   TEXT,
    case_number     TEXT,
    reason          TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ
);
CREATE INDEX department_writes_due_idx ON department_writes (next_attempt_at, id)
    WHERE status IN ('PENDING', 'AWAITING');
CREATE INDEX department_writes_event_idx ON department_writes (event_id, id);

-- The share of disputes resolved before litigation (at the window or in mediation), by
-- county and month of resolution: what 考核 reads.
CREATE VIEW dispute_resolutions AS
SELECT left(jurisdiction_code, 6) AS county_code,
       date_trunc('month', resolved_at) AS month,
       count(*) AS resolved,
       count(*) FILTER (WHERE resolution_tier IN ('WINDOW', 'MEDIATION')) AS before_litigation,
       count(*) FILTER (WHERE resolution_tier = 'MEDIATION') AS by_mediation,
       round(count(*) FILTER (WHERE resolution_tier IN ('WINDOW', 'MEDIATION'))::numeric
             / count(*), 4) AS share_before_litigation
FROM events
WHERE resolved_at IS NOT NULL
  AND resolution_tier IS NOT NULL
  AND category IN ('NEIGHBOR_DISPUTE', 'FAMILY_DISPUTE', 'LABOR_DISPUTE',
                   'PROPERTY_MANAGEMENT', 'LAND_DISPUTE', 'CONSUMER_RIGHTS')
GROUP BY 1, 2;
