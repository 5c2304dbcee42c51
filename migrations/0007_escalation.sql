-- Which level handles an event: NULL is the township of its grid (the usual level);
-- escalateEvent moves it to the level above, one step at a time, up to the city.
ALTER TABLE events
    ADD COLUMN handling_code TEXT COLLATE "C" REFERENCES jurisdictions (code);
