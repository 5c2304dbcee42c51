-- Access that follows the org chart: idempotency keys belong to the principal that sent
-- them and remember the arguments, and every read of personal data in clear is audited.

-- A key is its caller's own: two callers may use the same key for different changes.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys
    ADD COLUMN principal TEXT NOT NULL DEFAULT 'anonymous',
    -- The arguments of the first call: the same key with other arguments is refused.
    ADD COLUMN request   JSONB NOT NULL DEFAULT '{}';
ALTER TABLE idempotency_keys ADD PRIMARY KEY (principal, key);
-- Pruning by age.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- One row per entity whose personal data a request read in clear: who, in which role,
-- which fields, for what purpose, in which request. Never changed or deleted.
CREATE TABLE audit_log (
    id                BIGSERIAL PRIMARY KEY,
    at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    principal         TEXT NOT NULL,
    actor             TEXT NOT NULL,
    actor_role        TEXT NOT NULL,
    actor_department  TEXT,
    entity_type       TEXT NOT NULL,
    entity_id         BIGINT NOT NULL,
    -- The entity's jurisdiction: an administrator reads the audit rows of their subtree.
    jurisdiction_code TEXT COLLATE "C" NOT NULL,
    fields            TEXT[] NOT NULL,
    purpose           TEXT NOT NULL,
    request_id        TEXT
);
CREATE INDEX audit_log_jurisdiction_idx ON audit_log (jurisdiction_code, id);
CREATE INDEX audit_log_principal_idx ON audit_log (principal, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are never changed or deleted';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- When each periodic maintenance job last ran, whichever replica ran it.
CREATE TABLE job_runs (
    job    TEXT PRIMARY KEY,
    ran_at TIMESTAMPTZ NOT NULL
);
