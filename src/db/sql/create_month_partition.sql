-- Creates one month's partition of a table partitioned by month (`db::partitions`), named
-- `<table>_pYYYY_MM` and bounded by the month's first China-local day (a timestamptz key is
-- bounded at Asia/Shanghai midnight, so a month's partition holds that local month). Answers:
--   created   the partition is made
--   exists    it was there already
--   crowded   rows of that month are already in the table's default partition (written before
--             the month had its partition): PostgreSQL would refuse to create it, so it is
--             left for an operator (docs/scaling.md, "Partitions") and the rows stay where
--             they are, found by every query as before
-- Creating a partition takes an ACCESS EXCLUSIVE lock on the table for a moment; the caller
-- bounds the wait (lock_timeout) so that a long read never queues the peak behind it.
--
-- The living definition: `db::migrate` installs this file after the migrations (CREATE OR
-- REPLACE); a change of its body is made here. A change of its arguments or of its result
-- also needs a migration that drops the old function.
CREATE OR REPLACE FUNCTION create_month_partition(p_table TEXT, p_month DATE)
RETURNS TEXT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    month_start DATE := date_trunc('month', p_month)::date;
    part TEXT := format('%s_p%s', p_table, to_char(date_trunc('month', p_month), 'YYYY_MM'));
    key_column TEXT;
    instant BOOLEAN;
    lo TEXT;
    hi TEXT;
    crowded BOOLEAN;
BEGIN
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN 'exists';
    END IF;
    SELECT a.attname, a.atttypid = 'timestamptz'::regtype INTO key_column, instant
      FROM pg_partitioned_table p
      JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = to_regclass(quote_ident(p_table));
    IF NOT FOUND THEN
        RAISE EXCEPTION '% is not a partitioned table', p_table;
    END IF;
    IF instant THEN
        lo := (month_start::timestamp AT TIME ZONE 'Asia/Shanghai')::text;
        hi := ((month_start + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai')::text;
    ELSE
        lo := month_start::text;
        hi := (month_start + interval '1 month')::date::text;
    END IF;
    IF to_regclass(quote_ident(p_table || '_default')) IS NOT NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L AND %I < %L)',
                       p_table || '_default', key_column, lo, key_column, hi)
           INTO crowded;
        IF crowded THEN
            RETURN 'crowded';
        END IF;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, p_table, lo, hi);
    RETURN 'created';
END $$;
