-- Correctness of a bench/load_bench.sh load, run after it (not timed). Prints two lines of
-- name=value pairs; the script compares them with what the generator wrote and fails the
-- run unless entries and charts match and every other count is zero (sampled: non-zero).
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '

select 'entries=' || (select count(*) from core.chart_entry),
       'charts=' || (select count(*) from core.chart),
       'objects_pending=' || (select count(*) from catalog.raw_object where loaded_at is null),
       'objects_failed=' || (select count(*) from catalog.raw_object where load_error is not null),
       'rejects=' || (select count(*) from etl.reject),
       'rows_rejected=' || (select coalesce(sum(rows_rejected), 0) from catalog.raw_object);

-- The sample: every row of the sampled charts as the generator wrote it, against what the
-- load derived (the derived_* columns). previous_rank -1 in the file is NULL in the table
-- (new, re-entry, or unknown on a series' first chart).
select 'sampled=' || count(*),
       'missing=' || count(*) filter (where c.rank is null),
       'wrong_track=' || count(*) filter (where c.track_id is distinct from substr(e.uri, 15)),
       'wrong_streams=' || count(*) filter (where c.streams is distinct from e.streams),
       'wrong_previous_rank=' || count(*) filter (
           where coalesce(c.derived_previous_rank, -1) is distinct from e.previous_rank),
       'wrong_movement=' || count(*) filter (
           where (e.previous_rank = -1) is distinct from (c.derived_movement in ('new', 're-entry', 'unknown'))),
       'wrong_peak_rank=' || count(*) filter (where c.derived_peak_rank is distinct from e.peak_rank),
       'wrong_days_on_chart=' || count(*) filter (
           where c.derived_periods_on_chart is distinct from e.days_on_chart)
from bench.expect_entry e
left join core.chart_entry c
    on (c.chart_kind, c.region, c.period, c.chart_date, c.rank) =
       ('regional', e.region, 'daily', e.chart_date, e.rank);
