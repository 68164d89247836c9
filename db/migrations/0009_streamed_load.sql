-- The load's two merges.
--
-- Streamed (pipeline/load_stream.c): when every chart of an object extends its series,
-- the usual case, the loader derives the chart-run columns itself, from core.chart_run and
-- the object's rows in chart-date order, and COPYs the finished rows straight into
-- core.chart and core.chart_entry. What is left for SQL (etl.merge_streamed) is the
-- dimension and summary upserts, from three session tables the loader fills by COPY:
--
--   pg_temp.stream_track  the object's tracks, each with its latest metadata
--   pg_temp.stream_run    the new core.chart_run row of every track the object touched
--   pg_temp.stream_month  the object's additions to core.track_month
--
-- Set-based (etl.merge_stage): everything else, i.e. a chart that replaces a loaded one or
-- arrives before later ones, an object mixing such charts with newer ones, and playlist
-- snapshots. It has one route: insert, then recompute the affected tracks' runs from their
-- history. Its former window-function path for charts that extend their series is gone,
-- so the run columns are derived in two places, in C while streaming and by
-- etl.recompute_chart_runs; the tests check that the two agree.
--
-- Both share the track upsert, provisional credits and the monthly summary upsert.

create type etl.staged_track as (
    track_id     text,
    name         text,
    artist_names text,
    label        text
);

-- Upserts tracks, the newest metadata winning, an empty title or artist line never
-- overwriting a known one. Returns the ids of the tracks inserted or changed: only their
-- provisional credits can need work. Rows go in key order so concurrent loads lock in
-- one order.
create function etl.upsert_tracks(p_tracks etl.staged_track[]) returns text[]
language sql as $$
    with upserted as (
        insert into core.track as t (track_id, name, artist_names, label)
        select s.track_id, s.name, s.artist_names, s.label
        from unnest(p_tracks) s
        order by s.track_id
        on conflict (track_id) do update set
            name = coalesce(nullif(excluded.name, ''), t.name),
            artist_names = coalesce(nullif(excluded.artist_names, ''), t.artist_names),
            label = coalesce(excluded.label, t.label),
            updated_at = now()
        where (t.name, t.artist_names, t.label) is distinct from
              (coalesce(nullif(excluded.name, ''), t.name),
               coalesce(nullif(excluded.artist_names, ''), t.artist_names),
               coalesce(excluded.label, t.label))
        returning t.track_id)
    select coalesce(array_agg(track_id), '{}') from upserted
$$;

-- Adds monthly deltas (entries, streams, number ones, top-10 days, best rank, days) to
-- core.track_month (the streamed path; the set-based merge rebuilds the months it touches
-- from the facts, etl.refresh_track_months).
create function etl.add_track_months(p_months core.track_month[]) returns void
language sql as $$
    insert into core.track_month as m (chart_kind, region, period, month, track_id, entries,
                                       streams, number_ones, top10, best_rank, day_mask)
    select d.chart_kind, d.region, d.period, d.month, d.track_id, d.entries, d.streams,
           d.number_ones, d.top10, d.best_rank, d.day_mask
    from unnest(p_months) d
    order by 1, 2, 3, 4, 5
    on conflict (chart_kind, region, period, month, track_id) do update set
        entries = m.entries + excluded.entries,
        streams = case when m.streams is null and excluded.streams is null then null
                       else coalesce(m.streams, 0) + coalesce(excluded.streams, 0) end,
        number_ones = m.number_ones + excluded.number_ones,
        top10 = m.top10 + excluded.top10,
        best_rank = least(m.best_rank, excluded.best_rank),
        day_mask = m.day_mask | excluded.day_mask
$$;

-- Provisional credits for the given tracks when enrichment has not credited them:
-- `A, B` -> A (lead), B (featured). Names with a comma inside, like `Tyler, The Creator`,
-- split wrongly here; enrichment replaces these credits with the real ones.
drop function etl.merge_provisional_credits();
create function etl.merge_provisional_credits(p_tracks text[]) returns void
language plpgsql as $$
begin
    if cardinality(p_tracks) = 0 then
        return;
    end if;
    create temp table credit_wanted on commit drop as
    select t.track_id, n.position::smallint as position, n.name
    from (select distinct track_id from unnest(p_tracks) s(track_id)) s
    join core.track t using (track_id)
    cross join lateral (
        select name, row_number() over (order by min(ord)) as position
        from regexp_split_to_table(t.artist_names, ',\s*') with ordinality as p(name, ord)
        where btrim(name) <> ''
        group by name
    ) n
    where not exists (select 1 from core.track_credit c join core.artist a using (artist_id)
                      where c.track_id = t.track_id and not a.provisional);

    -- inserts and upserts go in key order so concurrent loads take locks in one order
    insert into core.artist (name)
    select distinct name from credit_wanted order by name
    on conflict (name) where spotify_id is null do nothing;

    create temp table credit_changed on commit drop as
    select track_id from (
        select track_id, string_agg(name, E'\x1f' order by position) as names
        from credit_wanted group by track_id
    ) w left join (
        select c.track_id, string_agg(a.name, E'\x1f' order by c.position) as names
        from core.track_credit c join core.artist a using (artist_id)
        where c.track_id in (select track_id from credit_wanted)
        group by c.track_id
    ) h using (track_id)
    where h.names is distinct from w.names;

    -- an upsert, not delete + insert, so a concurrent load writing the same credits waits
    -- and then finds its row instead of colliding with it
    insert into core.track_credit as c (track_id, position, artist_id, role)
    select w.track_id, w.position, a.artist_id,
           case when w.position = 1 then 'lead' else 'featured' end
    from credit_wanted w
    join credit_changed using (track_id)
    join core.artist a on a.name = w.name and a.spotify_id is null
    order by w.track_id, w.position
    on conflict (track_id, position) do update set artist_id = excluded.artist_id, role = excluded.role
    where (c.artist_id, c.role) is distinct from (excluded.artist_id, excluded.role);
    delete from core.track_credit c
    using (select track_id, max(position) as last_position from credit_wanted
           where track_id in (select track_id from credit_changed) group by track_id) x
    where c.track_id = x.track_id and c.position > x.last_position;
end $$;

-- Numbers a track's entries by chart without joining them to the series' charts. With
-- statistics taken while the tables were small (autoanalyze early in a first load), the
-- planner estimated one row per side of that join and re-read the series' entries once
-- per chart: 20 s for one out-of-order chart of a 186-chart series instead of 0.3 s. The
-- charts and the entries now go through one sort together; each chart's marker row sorts
-- before its entries, so a running count of markers is the chart's number.
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

-- Marks an object loaded: its rows, its rejects (already in etl.reject), no error.
create function etl.mark_loaded(p_object_id bigint, p_rows integer) returns void
language sql as $$
    update catalog.raw_object set
        loaded_at = now(),
        rows_loaded = p_rows,
        rows_rejected = (select count(*) from etl.reject r where r.object_id = p_object_id),
        load_error = null
    where object_id = p_object_id
$$;

-- The streamed path's merge, after the loader has COPYed the object's charts and entries
-- (with their derived columns) and filled the three session tables. The caller holds the
-- series' advisory locks and has checked that every chart extends its series.
create function etl.merge_streamed(p_object_id bigint, p_rows integer) returns void
language plpgsql as $$
begin
    perform etl.merge_provisional_credits(etl.upsert_tracks(array(
        select row(track_id, name, artist_names, label)::etl.staged_track
        from pg_temp.stream_track)));

    -- the loader computed every touched run's whole new state
    insert into core.chart_run as r
    select * from pg_temp.stream_run
    order by chart_kind, region, period, track_id
    on conflict (chart_kind, region, period, track_id) do update set
        first_date = excluded.first_date, first_rank = excluded.first_rank,
        last_date = excluded.last_date, last_rank = excluded.last_rank,
        peak_rank = excluded.peak_rank, peak_date = excluded.peak_date,
        periods = excluded.periods, streak = excluded.streak,
        longest_streak = excluded.longest_streak, reentries = excluded.reentries,
        periods_at_1 = excluded.periods_at_1, periods_top10 = excluded.periods_top10,
        total_streams = excluded.total_streams;

    perform etl.add_track_months(array(select row(m.*)::core.track_month from pg_temp.stream_month m));
    perform etl.mark_loaded(p_object_id, p_rows);
end $$;
