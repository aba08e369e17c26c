-- The open problems, newest first: the pool the queue compares each item with to find similar
-- problems (`hub::queue::similar_to`, the newest 1,000 open ones of the region). Without it the
-- pool visits every problem of the region (a city's 100,000, 190 ms); with it, the first 1,000
-- open ones (under 2 ms). Closed and merged problems, most of the table, are left out.
CREATE INDEX problems_open_created_idx ON problems (created_at DESC)
    WHERE status <> ALL (ARRAY['closed', 'merged']);
