-- Photos uploaded with a report (GraphQL multipart requests), kept in PostgreSQL and
-- served at /photos/<id> to callers who see their event; and where the reporter was.

CREATE TABLE event_photos (
    id            BIGSERIAL PRIMARY KEY,
    event_id      BIGINT NOT NULL REFERENCES events (id),
    content_type  TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    bytes         BYTEA NOT NULL,
    sha256        TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX event_photos_event_idx ON event_photos (event_id, id);

ALTER TABLE events
    ADD COLUMN longitude DOUBLE PRECISION,
    ADD COLUMN latitude  DOUBLE PRECISION;
