-- The loader's streamed path (pipeline/load_append.c). When every chart of an object
-- extends its series, the loader derives the chart-run columns itself, from core.chart_run
-- and the object's rows in chart-date order, and COPYs the finished rows straight into
-- core.chart and core.chart_entry. What is left for SQL is the dimension and summary
-- upserts, from three session tables the loader fills by COPY:
--
--   pg_temp.stream_track  the object's tracks, each with its latest metadata
--   pg_temp.stream_run    the new core.chart_run row of every track the object touched
--   pg_temp.stream_month  the object's additions to core.track_month
--
-- etl.merge_stage stays the set-based merge for every other object (a chart replaced or
-- inserted before later ones). The pieces both paths need are shared below: the track
-- upsert, provisional credits and the monthly summary.

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
-- core.track_month. Only for charts that extend their series: a replaced chart's month
-- is rebuilt from the facts instead (etl.refresh_track_months).
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

-- The set-based merge, now through the shared pieces above (same behaviour as before;
-- credits are derived only for tracks whose artist line is new or changed).
create or replace function etl.merge_stage(p_object_id bigint) returns integer
language plpgsql as $$
declare
    v_rows integer;
begin
    -- Temporary tables have no statistics until analysed; without them the planner
    -- joins the stage to chart_entry by scanning all of it.
    analyze pg_temp.stage_entry;
    select count(*) into v_rows from pg_temp.stage_entry;
    -- Loads of the same series are serialised (in a fixed order, so two loads never wait
    -- on each other): the fast path below reads the series' state and must not race.
    perform pg_advisory_xact_lock(hashtextextended(chart_kind || '/' || region || '/' || period, 0))
    from (select distinct chart_kind, region, period from pg_temp.stage_entry
          order by 1, 2, 3) series;
    perform etl.ensure_chart_entry_partitions(min(chart_date), max(chart_date))
    from pg_temp.stage_entry having count(*) > 0;

    perform etl.merge_provisional_credits(etl.upsert_tracks(array(
        select distinct on (track_id) row(track_id, track_name, artist_names, label)::etl.staged_track
        from pg_temp.stage_entry
        order by track_id, chart_date desc, line_no)));

    -- The object's charts, each with the chart before it in its series, and whether the
    -- series only grows (every staged chart newer than every loaded one).
    create temp table stage_chart on commit drop as
    select s.chart_kind, s.region, s.period, s.chart_date, s.entries,
           coalesce(lag(s.chart_date) over series, latest.chart_date) as prev_chart_date,
           coalesce(min(s.chart_date) over series > latest.chart_date, true) as appends
    from (select chart_kind, region, period, chart_date, count(*)::integer as entries
          from pg_temp.stage_entry group by 1, 2, 3, 4) s
    left join lateral (
        select max(c.chart_date) as chart_date from core.chart c
        where (c.chart_kind, c.region, c.period) = (s.chart_kind, s.region, s.period)) latest on true
    window series as (partition by s.chart_kind, s.region, s.period order by s.chart_date);
    analyze stage_chart;

    perform etl.merge_appended_charts(p_object_id);
    perform etl.merge_other_charts(p_object_id);
    perform etl.after_merge();
    perform etl.mark_loaded(p_object_id, v_rows);
    return v_rows;
end $$;

create or replace function etl.refresh_track_months() returns void
language plpgsql as $$
begin
    perform etl.add_track_months(array(
        select row(chart_kind, region, period, date_trunc('month', chart_date)::date, track_id,
                   count(*), sum(streams), count(*) filter (where rank = 1),
                   count(*) filter (where rank <= 10), min(rank),
                   bit_or(1 << (extract(day from chart_date)::integer - 1)))::core.track_month
        from stage_derived
        group by chart_kind, region, period, date_trunc('month', chart_date), track_id));

    create temp table stage_month on commit drop as
    select distinct chart_kind, region, period, date_trunc('month', chart_date)::date as month
    from stage_chart where not appends;

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
