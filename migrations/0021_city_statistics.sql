-- Statistics on the city's prefix of a jurisdiction code. A list under the whole city
-- (an administrator's scope) is narrowed by `left(jurisdiction_code, 4) = $1`; the
-- county, township and community prefixes have expression indexes and so statistics,
-- the city's has neither, and PostgreSQL guessed that 0.5% of the rows match. Over a
-- table of under about 2,000 rows that guess is fewer rows than a page, and the page was
-- planned as a scan and sort of the whole table (1.2 ms for 1,500 events) instead of a
-- walk along the primary key that stops after the page (0.05 ms).
CREATE STATISTICS IF NOT EXISTS events_city_stats ON (left(jurisdiction_code, 4)) FROM events;
CREATE STATISTICS IF NOT EXISTS persons_city_stats ON (left(jurisdiction_code, 4)) FROM persons;
CREATE STATISTICS IF NOT EXISTS places_city_stats ON (left(jurisdiction_code, 4)) FROM places;
CREATE STATISTICS IF NOT EXISTS things_city_stats ON (left(jurisdiction_code, 4)) FROM things;
CREATE STATISTICS IF NOT EXISTS organizations_city_stats
    ON (left(jurisdiction_code, 4)) FROM organizations;

ANALYZE events;
ANALYZE persons;
ANALYZE places;
ANALYZE things;
ANALYZE organizations;
