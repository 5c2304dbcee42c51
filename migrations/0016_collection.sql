-- Collection in the grid (网格员信息采集): the index written by grid workers and window
-- staff as well as by the seed, every change kept on the element's own history.

-- Every change to a person, place, thing or organization: who, when, from which source
-- (the grid, or a department's feed), and each field before → after. Never changed or
-- deleted; it outlives an element merged into another.
CREATE TABLE element_history (
    id                BIGSERIAL PRIMARY KEY,
    entity_id         BIGINT NOT NULL,
    entity_type       TEXT NOT NULL CHECK (entity_type IN ('PERSON', 'PLACE', 'THING', 'ORGANIZATION')),
    -- The element's grid after the change (its subtree's staff read the history).
    jurisdiction_code TEXT COLLATE "C" NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('CREATED', 'UPDATED', 'MEMBER_ADDED',
                          'MEMBER_REMOVED', 'MERGED', 'MERGED_INTO')),
    -- 'GRID' for what was collected, a department's code for what its feed brought.
    source            TEXT NOT NULL,
    actor             TEXT NOT NULL,
    actor_role        TEXT NOT NULL,
    actor_department  TEXT,
    -- {"field": {"before": ..., "after": ...}} for the fields the change set.
    changes           JSONB NOT NULL DEFAULT '{}',
    detail            JSONB NOT NULL DEFAULT '{}',
    request_id        TEXT,
    at                TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX element_history_entity_idx ON element_history (entity_id, id);

CREATE FUNCTION element_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'element history is never changed or deleted';
END $$;
CREATE TRIGGER element_history_append_only BEFORE UPDATE OR DELETE ON element_history
    FOR EACH STATEMENT EXECUTE FUNCTION element_history_is_append_only();

-- An idempotency key remembers either the event a workflow change acted on (and its
-- timeline entries) or the element a collection change wrote (and its history rows).
ALTER TABLE idempotency_keys
    ALTER COLUMN event_id DROP NOT NULL,
    ADD COLUMN entity_id BIGINT,
    ADD CONSTRAINT idempotency_keys_subject CHECK ((event_id IS NULL) <> (entity_id IS NULL));

-- Who owns a thing: a person or an organization (one id space, see 0002_entities.sql).
ALTER TABLE things ADD COLUMN owner_id BIGINT;
CREATE INDEX things_owner_idx ON things (owner_id) WHERE owner_id IS NOT NULL;

-- Duplicates are looked for among near-identical addresses and things' identifiers.
CREATE INDEX places_address_trgm_idx ON places USING gin (address gin_trgm_ops);
CREATE INDEX things_identifier_idx ON things (identifier);
