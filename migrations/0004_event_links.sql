-- Which department systems hold a case file on an event (信访件, 调解案件, 案件, 公益诉讼线索),
-- under which id of their own. Events have their own id space, hence a table apart from
-- entity_links.
CREATE TABLE event_links (
    event_id        BIGINT NOT NULL REFERENCES events (id),
    department_code TEXT COLLATE "C" NOT NULL REFERENCES departments (code),
    source_id       TEXT NOT NULL,
    PRIMARY KEY (event_id, department_code),
    UNIQUE (department_code, source_id)
);
