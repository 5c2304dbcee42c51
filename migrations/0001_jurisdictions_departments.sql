-- The administrative tree (city → county → township → community/village → grid) and the
-- functional departments whose systems the gateway federates.

CREATE TABLE jurisdictions (
    code        TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('CITY', 'COUNTY', 'TOWNSHIP', 'COMMUNITY', 'GRID')),
    kind        TEXT NOT NULL, -- STREET, TOWN, TOWNSHIP, COMMUNITY, VILLAGE, GRID, ...
    parent_code TEXT COLLATE "C" REFERENCES jurisdictions (code),
    -- Every code below this node starts with `prefix` (the city's own code ends in "00",
    -- its descendants do not), so a subtree is one index range on any code column.
    prefix      TEXT COLLATE "C" NOT NULL,
    depth       SMALLINT NOT NULL
);
CREATE INDEX jurisdictions_parent_idx ON jurisdictions (parent_code);
CREATE INDEX jurisdictions_level_idx ON jurisdictions (level, code);

CREATE TABLE departments (
    code              TEXT COLLATE "C" PRIMARY KEY,            -- e.g. 220422-GA (东辽县公安局)
    name              TEXT NOT NULL,
    short_name        TEXT NOT NULL,               -- 公安局
    kind              TEXT NOT NULL,               -- PUBLIC_SECURITY, CIVIL_AFFAIRS, ...
    county_code       TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    connector         TEXT NOT NULL                -- the connector that reaches its system
);
CREATE INDEX departments_county_idx ON departments (county_code, code);
