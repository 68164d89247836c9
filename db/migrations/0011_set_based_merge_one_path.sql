-- The set-based merge loses its own path for charts that extend their series. The
-- loader's streamed path (0009) takes every object whose charts all do; what still comes
-- here is a chart that replaces a loaded one or arrives before later ones, an object
-- mixing such charts with newer ones, and playlist snapshots. All of it now takes one
-- route: insert, then recompute the affected tracks' runs from their history. The run
-- columns are derived in two places instead of three: in C while streaming
-- (pipeline/load_stream.c) and by etl.recompute_chart_runs here; the tests check that the
-- two agree.

drop function etl.merge_appended_charts(bigint);
drop function etl.merge_other_charts(bigint);

-- Inserts the staged charts (replacing earlier versions of the same charts; the newest
-- load wins) and recomputes the runs of every track whose history changed: those staged,
-- those on the replaced versions, and those on the chart that follows each staged one.
create function etl.merge_charts(p_object_id bigint) returns void
language plpgsql as $$
declare
    v_series record;
begin
    create temp table run_track on commit drop as
    select distinct chart_kind, region, period, track_id from pg_temp.stage_entry
    union
    select e.chart_kind, e.region, e.period, e.track_id
    from core.chart_entry e join stage_chart c using (chart_kind, region, period, chart_date);

    delete from core.chart_entry e using stage_chart s
    where (e.chart_kind, e.region, e.period, e.chart_date) =
          (s.chart_kind, s.region, s.period, s.chart_date);
    delete from core.chart c using stage_chart s
    where (c.chart_kind, c.region, c.period, c.chart_date) =
          (s.chart_kind, s.region, s.period, s.chart_date);

    insert into core.chart (chart_kind, region, period, chart_date, entries, object_id)
    select chart_kind, region, period, chart_date, entries, p_object_id from stage_chart;

    insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id, streams,
                                  src_peak_rank, src_previous_rank, src_periods_on_chart)
    select chart_kind, region, period, chart_date, rank, track_id, streams,
           src_peak_rank, src_previous_rank, src_periods_on_chart
    from pg_temp.stage_entry;

    insert into run_track
    select e.chart_kind, e.region, e.period, e.track_id
    from stage_chart s
    cross join lateral (
        select c.chart_date from core.chart c
        where (c.chart_kind, c.region, c.period) = (s.chart_kind, s.region, s.period)
          and c.chart_date > s.chart_date
        order by c.chart_date limit 1) nxt
    join core.chart_entry e on (e.chart_kind, e.region, e.period, e.chart_date) =
                               (s.chart_kind, s.region, s.period, nxt.chart_date);

    for v_series in
        select s.chart_kind, s.region, s.period, min(s.chart_date) as from_date,
               (select array_agg(distinct r.track_id) from run_track r
                where (r.chart_kind, r.region, r.period) = (s.chart_kind, s.region, s.period))
                   as tracks
        from stage_chart s group by 1, 2, 3
    loop
        perform etl.recompute_chart_runs(v_series.chart_kind, v_series.region, v_series.period,
                                         v_series.from_date, v_series.tracks);
        perform etl.rebuild_chart_runs(v_series.chart_kind, v_series.region, v_series.period,
                                       v_series.tracks);
    end loop;
end $$;

-- The months holding a staged chart, rebuilt from the facts.
create or replace function etl.refresh_track_months() returns void
language plpgsql as $$
begin
    create temp table stage_month on commit drop as
    select distinct chart_kind, region, period, date_trunc('month', chart_date)::date as month
    from stage_chart;

    delete from core.track_month m using stage_month s
    where (m.chart_kind, m.region, m.period, m.month) = (s.chart_kind, s.region, s.period, s.month);

    insert into core.track_month (chart_kind, region, period, month, track_id, entries, streams,
                                  number_ones, top10, best_rank, day_mask)
    select e.chart_kind, e.region, e.period, s.month, e.track_id, count(*), sum(e.streams),
           count(*) filter (where e.rank = 1), count(*) filter (where e.rank <= 10), min(e.rank),
           bit_or(1 << (extract(day from e.chart_date)::integer - 1))
    from stage_month s
    join core.chart_entry e
      on (e.chart_kind, e.region, e.period) = (s.chart_kind, s.region, s.period)
     and e.chart_date >= s.month and e.chart_date < (s.month + interval '1 month')::date
    group by e.chart_kind, e.region, e.period, s.month, e.track_id;
end $$;

-- Merges pg_temp.stage_entry, the validated rows of raw object p_object_id, and returns
-- how many chart entries were loaded: tracks (the newest metadata wins), provisional
-- credits of new or changed tracks, the charts with their entries and run columns,
-- core.chart_run and core.track_month.
create or replace function etl.merge_stage(p_object_id bigint) returns integer
language plpgsql as $$
declare
    v_rows integer;
begin
    -- Temporary tables have no statistics until analysed; without them the planner
    -- joins the stage to chart_entry by scanning all of it.
    analyze pg_temp.stage_entry;
    select count(*) into v_rows from pg_temp.stage_entry;
    -- Loads of the same series are serialised, in one order so two loads never wait on
    -- each other (the streamed path takes the same locks first).
    perform pg_advisory_xact_lock(hashtextextended(chart_kind || '/' || region || '/' || period, 0))
    from (select distinct chart_kind, region, period from pg_temp.stage_entry
          order by 1, 2, 3) series;
    perform etl.ensure_chart_entry_partitions(min(chart_date), max(chart_date))
    from pg_temp.stage_entry having count(*) > 0;

    perform etl.merge_provisional_credits(etl.upsert_tracks(array(
        select distinct on (track_id) row(track_id, track_name, artist_names, label)::etl.staged_track
        from pg_temp.stage_entry
        order by track_id, chart_date desc, line_no)));

    create temp table stage_chart on commit drop as
    select chart_kind, region, period, chart_date, count(*)::integer as entries
    from pg_temp.stage_entry group by 1, 2, 3, 4;
    analyze stage_chart;

    perform etl.merge_charts(p_object_id);
    perform etl.after_merge();
    perform etl.mark_loaded(p_object_id, v_rows);
    return v_rows;
end $$;
