-- `order_timeline()` planned once per connection: its statements take arrays of entry
-- ids, which PostgreSQL cannot size in a generic plan, so it planned them again on every
-- call (about a tenth of its time under a burst of writes). Their generic plans are the
-- lookups by primary key that 0020 asks for, whatever the statistics say.
ALTER FUNCTION order_timeline(bigint[]) SET plan_cache_mode = force_generic_plan;
