-- etl.recompute_chart_runs numbered a track's entries by joining them to the series'
-- charts. With statistics taken while the tables were small (autoanalyze early in a
-- first load), the planner estimated one row per side and re-scanned the series' entries
-- once per chart: 20 s for one out-of-order chart of a 186-chart series instead of
-- 0.3 s. The chart numbers now come from one sort of the charts and the entries together
-- (each chart's marker row sorts before its entries, so a running count of markers is the
-- chart's number), so no plan can multiply one side by the other.
create or replace function etl.recompute_chart_runs(p_kind text, p_region text, p_period text,
                                                    p_from date, p_tracks text[])
returns integer language sql as $$
    with charts_and_entries as (
        select chart_date, null::smallint as rank, null::text as track_id, true as is_chart
        from core.chart
        where chart_kind = p_kind and region = p_region and period = p_period
        union all
        select chart_date, rank, track_id, false
        from core.chart_entry
        where chart_kind = p_kind and region = p_region and period = p_period
          and track_id = any (p_tracks)
    ), entries as (
        select chart_date, rank, track_id, seq
        from (select chart_date, rank, track_id, is_chart,
                     count(*) filter (where is_chart)
                         over (order by chart_date, is_chart desc
                               rows between unbounded preceding and current row) as seq
              from charts_and_entries) numbered
        where not is_chart
    ), runs as (
        select chart_date, rank, track_id, seq,
               lag(seq)  over t as prev_seq,
               lag(rank) over t as prev_rank,
               min(rank) over (t rows between unbounded preceding and current row) as peak,
               row_number() over t as n,
               seq - row_number() over t as run_group
        from entries window t as (partition by track_id order by chart_date)
    ), derived as (
        select chart_date, rank, peak, n::integer as n,
               (row_number() over (partition by track_id, run_group order by chart_date))::integer
                   as streak,
               case when prev_seq = seq - 1 then prev_rank end as previous_rank,
               case when prev_seq is null then 'new'
                    when prev_seq <> seq - 1 then 're-entry'
                    when prev_rank > rank then 'up'
                    when prev_rank < rank then 'down'
                    else 'same' end as movement
        from runs
    ), changed as (
        update core.chart_entry e set
            previous_rank = d.previous_rank,
            movement = d.movement,
            peak_rank = d.peak,
            periods_on_chart = d.n,
            streak = d.streak
        from derived d
        where e.chart_kind = p_kind and e.region = p_region and e.period = p_period
          and e.chart_date = d.chart_date and e.rank = d.rank and d.chart_date >= p_from
          and (e.previous_rank, e.movement, e.peak_rank, e.periods_on_chart, e.streak)
              is distinct from (d.previous_rank, d.movement, d.peak, d.n, d.streak)
        returning 1
    )
    select count(*)::integer from changed
$$;
