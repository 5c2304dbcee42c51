-- Events (诉求事项, 矛盾纠纷, 网格事件): what citizens and grid workers report.

CREATE TABLE events (
    id                BIGSERIAL PRIMARY KEY,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    category          TEXT NOT NULL,  -- DISPUTE_NEIGHBOR, PROPERTY_MANAGEMENT, SAFETY_HAZARD, ...
    channel           TEXT NOT NULL CHECK (channel IN ('GRID_TERMINAL', 'HOTLINE_12345', 'WINDOW', 'ONLINE', 'LETTER_VISIT')),
    urgency           TEXT NOT NULL CHECK (urgency IN ('LOW', 'NORMAL', 'HIGH', 'CRITICAL')),
    status            TEXT NOT NULL CHECK (status IN ('REPORTED', 'ACCEPTED', 'DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'CLOSED', 'REJECTED', 'RETURNED', 'ESCALATED')),
    reporter_id       BIGINT REFERENCES persons (id),
    place_id          BIGINT REFERENCES places (id),
    jurisdiction_code TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    resolution_tier   TEXT CHECK (resolution_tier IN ('WINDOW', 'MEDIATION', 'LITIGATION')),
    satisfaction      SMALLINT CHECK (satisfaction BETWEEN 1 AND 5),
    reported_at       TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    due_at            TIMESTAMPTZ,
    resolved_at       TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ
);
-- A subtree's events by id, at each level of the code (see 0002_entities.sql).
CREATE INDEX events_jurisdiction_idx ON events (jurisdiction_code, id);
CREATE INDEX events_county_idx ON events (left(jurisdiction_code, 6), id);
CREATE INDEX events_township_idx ON events (left(jurisdiction_code, 9), id);
CREATE INDEX events_community_idx ON events (left(jurisdiction_code, 12), id);
CREATE INDEX events_reported_at_idx ON events (reported_at);
CREATE INDEX events_status_idx ON events (status, id);
CREATE INDEX events_place_idx ON events (place_id);
CREATE INDEX events_reporter_idx ON events (reporter_id);
CREATE INDEX events_title_trgm_idx ON events USING gin (title gin_trgm_ops);

-- The persons and organizations an event concerns, with their role in it.
CREATE TABLE event_parties (
    event_id        BIGINT NOT NULL REFERENCES events (id),
    position        SMALLINT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('APPLICANT', 'RESPONDENT', 'WITNESS')),
    person_id       BIGINT REFERENCES persons (id),
    organization_id BIGINT REFERENCES organizations (id),
    PRIMARY KEY (event_id, position),
    CHECK ((person_id IS NULL) <> (organization_id IS NULL))
);
CREATE INDEX event_parties_person_idx ON event_parties (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX event_parties_organization_idx ON event_parties (organization_id) WHERE organization_id IS NOT NULL;
