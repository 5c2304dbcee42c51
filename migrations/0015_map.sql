-- One map (一张图): jurisdictions drawn as polygons, and the places and events of the
-- index as points, in WGS 84 (SRID 4326). Distances are asked of the geography type, in
-- metres on the spheroid; containment of the geometry type, in degrees.

CREATE EXTENSION IF NOT EXISTS postgis;

ALTER TABLE jurisdictions ADD COLUMN boundary geometry(MultiPolygon, 4326);
CREATE INDEX jurisdictions_boundary_idx ON jurisdictions USING gist (boundary);

-- A point kept by PostgreSQL from the longitude and latitude columns, so that nothing
-- writing those columns can leave it stale.
ALTER TABLE places ADD COLUMN position geography(Point, 4326)
    GENERATED ALWAYS AS (
        CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL
             THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography
        END) STORED;
CREATE INDEX places_position_idx ON places USING gist (position);

-- Where the reporter was, when the terminal said; otherwise an event is at its place.
ALTER TABLE events ADD COLUMN position geography(Point, 4326)
    GENERATED ALWAYS AS (
        CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL
             THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography
        END) STORED;
CREATE INDEX events_position_idx ON events USING gist (position);
