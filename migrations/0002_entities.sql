-- The entity index of the five elements: a unified id, a display name, where it is, a few
-- search keys, and links to the department systems holding records on it. Detail fields
-- stay in the departments' systems.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One id space for people, places, things and organizations: a unified id names one
-- entity whatever its kind.
CREATE SEQUENCE entity_id_seq;

CREATE TABLE places (
    id                BIGINT PRIMARY KEY DEFAULT nextval('entity_id_seq'),
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,  -- RESIDENCE, SHOP, SCHOOL, HOSPITAL, FACTORY, ...
    address           TEXT NOT NULL,
    jurisdiction_code TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    longitude         DOUBLE PRECISION,
    latitude          DOUBLE PRECISION,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE persons (
    id                 BIGINT PRIMARY KEY DEFAULT nextval('entity_id_seq'),
    name               TEXT NOT NULL,
    gender             TEXT NOT NULL CHECK (gender IN ('MALE', 'FEMALE')),
    birth_date         DATE NOT NULL,
    id_number          TEXT NOT NULL UNIQUE,  -- 居民身份证号码
    phone              TEXT,
    residence_place_id BIGINT REFERENCES places (id),
    jurisdiction_code  TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE things (
    id                BIGINT PRIMARY KEY DEFAULT nextval('entity_id_seq'),
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,  -- ELEVATOR, GAS_TANK, VEHICLE, FIRE_HYDRANT, ...
    identifier        TEXT NOT NULL,  -- registration or serial number
    place_id          BIGINT REFERENCES places (id),
    jurisdiction_code TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE organizations (
    id                BIGINT PRIMARY KEY DEFAULT nextval('entity_id_seq'),
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,  -- ENTERPRISE, INDIVIDUAL_BUSINESS, SOCIAL_ORGANIZATION, ...
    credit_code       TEXT NOT NULL UNIQUE,  -- 统一社会信用代码
    place_id          BIGINT REFERENCES places (id),
    jurisdiction_code TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE organization_members (
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    person_id       BIGINT NOT NULL REFERENCES persons (id),
    role            TEXT NOT NULL,  -- LEGAL_REPRESENTATIVE, EMPLOYEE, ...
    PRIMARY KEY (organization_id, person_id)
);
CREATE INDEX organization_members_person_idx ON organization_members (person_id);

-- Which department systems hold a record on an entity, under which id of their own.
CREATE TABLE entity_links (
    entity_id       BIGINT NOT NULL,
    department_code TEXT COLLATE "C" NOT NULL REFERENCES departments (code),
    source_id       TEXT NOT NULL,
    PRIMARY KEY (entity_id, department_code),
    UNIQUE (department_code, source_id)
);

-- Lists page by id within a jurisdiction subtree: one index per level of the code
-- (county 6, township 9, community 12 characters; a grid is the whole code) serves
-- both the subtree and the order. Names are searched by prefix (btree) and by
-- substring (trigram GIN, which in a UTF-8 database indexes Chinese text too).
CREATE INDEX places_jurisdiction_idx ON places (jurisdiction_code, id);
CREATE INDEX places_county_idx ON places (left(jurisdiction_code, 6), id);
CREATE INDEX places_township_idx ON places (left(jurisdiction_code, 9), id);
CREATE INDEX places_community_idx ON places (left(jurisdiction_code, 12), id);
CREATE INDEX places_name_idx ON places (name text_pattern_ops);
CREATE INDEX places_name_trgm_idx ON places USING gin (name gin_trgm_ops);
CREATE INDEX persons_jurisdiction_idx ON persons (jurisdiction_code, id);
CREATE INDEX persons_county_idx ON persons (left(jurisdiction_code, 6), id);
CREATE INDEX persons_township_idx ON persons (left(jurisdiction_code, 9), id);
CREATE INDEX persons_community_idx ON persons (left(jurisdiction_code, 12), id);
CREATE INDEX persons_residence_idx ON persons (residence_place_id);
CREATE INDEX persons_name_idx ON persons (name text_pattern_ops);
CREATE INDEX persons_name_trgm_idx ON persons USING gin (name gin_trgm_ops);
CREATE INDEX things_jurisdiction_idx ON things (jurisdiction_code, id);
CREATE INDEX things_county_idx ON things (left(jurisdiction_code, 6), id);
CREATE INDEX things_township_idx ON things (left(jurisdiction_code, 9), id);
CREATE INDEX things_community_idx ON things (left(jurisdiction_code, 12), id);
CREATE INDEX things_place_idx ON things (place_id);
CREATE INDEX things_name_idx ON things (name text_pattern_ops);
CREATE INDEX things_name_trgm_idx ON things USING gin (name gin_trgm_ops);
CREATE INDEX organizations_jurisdiction_idx ON organizations (jurisdiction_code, id);
CREATE INDEX organizations_county_idx ON organizations (left(jurisdiction_code, 6), id);
CREATE INDEX organizations_township_idx ON organizations (left(jurisdiction_code, 9), id);
CREATE INDEX organizations_community_idx ON organizations (left(jurisdiction_code, 12), id);
CREATE INDEX organizations_place_idx ON organizations (place_id);
CREATE INDEX organizations_name_idx ON organizations (name text_pattern_ops);
CREATE INDEX organizations_name_trgm_idx ON organizations USING gin (name gin_trgm_ops);
