-- The load step's merge: from the session's stage_entry table (filled by COPY) into the
-- core tables, in the caller's transaction, so an object loads whole or not at all.

-- Chart runs: for each track in each chart series (kind, region, period), its state at
-- its latest loaded chart. The loader derives a new chart's previous_rank, movement,
-- peak, periods on chart and streak from this row and the previous chart alone, so
-- appending a chart costs the same whatever the length of the history; it is also the
-- per-track-run summary the track statistics read.
create table core.chart_run (
    chart_kind     text not null,
    region         text not null,
    period         text not null,
    track_id       text not null references core.track,
    first_date     date not null,     -- debut
    first_rank     smallint not null,
    last_date      date not null,     -- latest chart the track is on
    last_rank      smallint not null,
    peak_rank      smallint not null,
    peak_date      date not null,     -- first chart at peak_rank
    periods        integer not null,  -- charts on (days for daily, weeks for weekly)
    streak         integer not null,  -- consecutive charts ending at last_date
    longest_streak integer not null,
    reentries      integer not null,
    periods_at_1   integer not null,
    periods_top10  integer not null,
    total_streams  bigint,            -- null when no chart of the run had streams
    primary key (chart_kind, region, period, track_id),
    check (peak_rank <= first_rank and peak_rank <= last_rank and periods >= 1
           and streak between 1 and periods and longest_streak between streak and periods)
);
create index chart_run_track_idx on core.chart_run (track_id);

grant select on core.chart_run to chartpulse_api;

-- Rebuilds the chart_run rows of the given tracks in one series from their full history.
create function etl.rebuild_chart_runs(p_kind text, p_region text, p_period text, p_tracks text[])
returns void language sql as $$
    delete from core.chart_run
    where chart_kind = p_kind and region = p_region and period = p_period
      and track_id = any (p_tracks);

    insert into core.chart_run (chart_kind, region, period, track_id, first_date, first_rank,
        last_date, last_rank, peak_rank, peak_date, periods, streak, longest_streak, reentries,
        periods_at_1, periods_top10, total_streams)
    select p_kind, p_region, p_period, track_id,
           min(chart_date),
           (array_agg(rank order by chart_date))[1],
           max(chart_date),
           (array_agg(rank order by chart_date desc))[1],
           min(rank),
           (array_agg(chart_date order by rank, chart_date))[1],
           count(*),
           (array_agg(streak order by chart_date desc))[1],
           max(streak),
           count(*) filter (where movement = 're-entry'),
           count(*) filter (where rank = 1),
           count(*) filter (where rank <= 10),
           sum(streams)
    from core.chart_entry
    where chart_kind = p_kind and region = p_region and period = p_period
      and track_id = any (p_tracks)
    group by track_id;
$$;

-- Merges pg_temp.stage_entry, the validated rows of raw object p_object_id, and returns
-- how many chart entries were loaded. Charts the object carries replace any earlier
-- version of the same chart (the newest load wins); tracks are upserted, an empty title
-- or artist line never overwriting a known one; tracks that enrichment has not credited
-- get provisional artists split from their artist line.
--
-- Chart runs: when every chart of a series in the object is newer than the series'
-- latest loaded chart (the usual case), the derived columns are computed from
-- core.chart_run and the stage alone. Otherwise (a chart replaced or inserted before
-- later ones) the entries are inserted first and the runs of every track whose history
-- changed are recomputed from the full history.
create function etl.merge_stage(p_object_id bigint) returns integer
language plpgsql as $$
declare
    v_rows integer;
    v_series record;
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

    insert into core.track as t (track_id, name, artist_names, label)
    select distinct on (track_id) track_id, track_name, artist_names, label
    from pg_temp.stage_entry
    order by track_id, chart_date desc, line_no
    on conflict (track_id) do update set
        name = coalesce(nullif(excluded.name, ''), t.name),
        artist_names = coalesce(nullif(excluded.artist_names, ''), t.artist_names),
        label = coalesce(excluded.label, t.label),
        updated_at = now()
    where (t.name, t.artist_names, t.label) is distinct from
          (coalesce(nullif(excluded.name, ''), t.name),
           coalesce(nullif(excluded.artist_names, ''), t.artist_names),
           coalesce(excluded.label, t.label));

    perform etl.merge_provisional_credits();

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

    update catalog.raw_object set
        loaded_at = now(),
        rows_loaded = v_rows,
        rows_rejected = (select count(*) from etl.reject r where r.object_id = p_object_id),
        load_error = null
    where object_id = p_object_id;

    return v_rows;
end $$;

-- Work that later migrations hang on the end of every merge (summaries); none yet.
create function etl.after_merge() returns void language sql as $$ select $$;

-- Provisional credits for the staged tracks that enrichment has not credited:
-- `A, B` -> A (lead), B (featured). Names with a comma inside, like `Tyler, The Creator`,
-- split wrongly here; enrichment replaces these credits with the real ones.
create function etl.merge_provisional_credits() returns void
language plpgsql as $$
begin
    create temp table credit_wanted on commit drop as
    select t.track_id, n.position::smallint as position, n.name
    from (select distinct track_id from pg_temp.stage_entry) s
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

-- The fast path: staged charts that extend their series. Each staged entry's run columns
-- follow from the track's chart_run row (its state before this object) and the earlier
-- staged entries of the same track.
create function etl.merge_appended_charts(p_object_id bigint) returns void
language plpgsql as $$
begin
    create temp table stage_derived on commit drop as
    with staged as (
        select e.chart_kind, e.region, e.period, e.chart_date, e.rank, e.track_id, e.streams,
               e.src_peak_rank, e.src_previous_rank, e.src_periods_on_chart, c.prev_chart_date,
               lag(e.chart_date) over w as prev_stage_date,
               lag(e.rank) over w as prev_stage_rank,
               row_number() over w as n_stage,
               min(e.rank) over (w rows between unbounded preceding and current row) as peak_stage
        from pg_temp.stage_entry e
        join stage_chart c using (chart_kind, region, period, chart_date)
        where c.appends
        window w as (partition by e.chart_kind, e.region, e.period, e.track_id order by e.chart_date)
    ), with_state as (
        select s.*, r.peak_rank as run_peak, r.periods as run_periods, r.streak as run_streak,
               coalesce(s.prev_stage_date, r.last_date) as last_date,
               case when s.prev_stage_date is not null then s.prev_stage_rank
                    else r.last_rank end as last_rank
        from staged s
        left join core.chart_run r using (chart_kind, region, period, track_id)
    ), runs as (
        select w.*,
               -- a new run starts wherever the track was not on the previous chart
               sum(case when w.last_date = w.prev_chart_date then 0 else 1 end)
                   over (partition by w.chart_kind, w.region, w.period, w.track_id
                         order by w.chart_date rows between unbounded preceding and current row)
                   as run_no
        from with_state w
    )
    select chart_kind, region, period, chart_date, rank, track_id, streams,
           src_peak_rank, src_previous_rank, src_periods_on_chart,
           case when last_date = prev_chart_date then last_rank end::smallint as previous_rank,
           case when last_date is null then 'new'
                when last_date <> prev_chart_date then 're-entry'
                when last_rank > rank then 'up'
                when last_rank < rank then 'down'
                else 'same' end as movement,
           least(run_peak, peak_stage)::smallint as peak_rank,
           (coalesce(run_periods, 0) + n_stage)::integer as periods_on_chart,
           (row_number() over (partition by chart_kind, region, period, track_id, run_no
                               order by chart_date)
            + case when run_no = 0 then run_streak else 0 end)::integer as streak
    from runs;

    insert into core.chart (chart_kind, region, period, chart_date, entries, object_id)
    select chart_kind, region, period, chart_date, entries, p_object_id
    from stage_chart where appends;

    insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id, streams,
        previous_rank, movement, peak_rank, periods_on_chart, streak,
        src_peak_rank, src_previous_rank, src_periods_on_chart)
    select chart_kind, region, period, chart_date, rank, track_id, streams,
        previous_rank, movement, peak_rank, periods_on_chart, streak,
        src_peak_rank, src_previous_rank, src_periods_on_chart
    from stage_derived;

    insert into core.chart_run as r (chart_kind, region, period, track_id, first_date, first_rank,
        last_date, last_rank, peak_rank, peak_date, periods, streak, longest_streak, reentries,
        periods_at_1, periods_top10, total_streams)
    select chart_kind, region, period, track_id,
           min(chart_date),
           (array_agg(rank order by chart_date))[1],
           max(chart_date),
           (array_agg(rank order by chart_date desc))[1],
           min(rank),
           (array_agg(chart_date order by rank, chart_date))[1],
           max(periods_on_chart),
           (array_agg(streak order by chart_date desc))[1],
           max(streak),
           count(*) filter (where movement = 're-entry'),
           count(*) filter (where rank = 1),
           count(*) filter (where rank <= 10),
           sum(streams)
    from stage_derived
    group by chart_kind, region, period, track_id
    on conflict (chart_kind, region, period, track_id) do update set
        last_date = excluded.last_date,
        last_rank = excluded.last_rank,
        peak_date = case when excluded.peak_rank < r.peak_rank then excluded.peak_date
                         else r.peak_date end,
        peak_rank = least(r.peak_rank, excluded.peak_rank),
        periods = excluded.periods,
        streak = excluded.streak,
        longest_streak = greatest(r.longest_streak, excluded.longest_streak),
        reentries = r.reentries + excluded.reentries,
        periods_at_1 = r.periods_at_1 + excluded.periods_at_1,
        periods_top10 = r.periods_top10 + excluded.periods_top10,
        total_streams = case when r.total_streams is null and excluded.total_streams is null
                             then null
                             else coalesce(r.total_streams, 0) + coalesce(excluded.total_streams, 0)
                        end;
end $$;

-- The general path: staged charts that replace a loaded chart or come before later ones.
-- The tracks whose runs change are those staged, those on the replaced versions of these
-- charts, and those on the chart that follows each staged one; their runs are recomputed
-- from their full history in the series.
create function etl.merge_other_charts(p_object_id bigint) returns void
language plpgsql as $$
declare
    v_series record;
begin
    if not exists (select 1 from stage_chart where not appends) then
        return;
    end if;

    create temp table run_track on commit drop as
    select distinct e.chart_kind, e.region, e.period, e.track_id
    from pg_temp.stage_entry e join stage_chart c using (chart_kind, region, period, chart_date)
    where not c.appends
    union
    select e.chart_kind, e.region, e.period, e.track_id
    from core.chart_entry e join stage_chart c using (chart_kind, region, period, chart_date)
    where not c.appends;

    delete from core.chart_entry e using stage_chart s
    where not s.appends
      and (e.chart_kind, e.region, e.period, e.chart_date) =
          (s.chart_kind, s.region, s.period, s.chart_date);
    delete from core.chart c using stage_chart s
    where not s.appends
      and (c.chart_kind, c.region, c.period, c.chart_date) =
          (s.chart_kind, s.region, s.period, s.chart_date);

    insert into core.chart (chart_kind, region, period, chart_date, entries, object_id)
    select chart_kind, region, period, chart_date, entries, p_object_id
    from stage_chart where not appends;

    insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id, streams,
                                  src_peak_rank, src_previous_rank, src_periods_on_chart)
    select e.chart_kind, e.region, e.period, e.chart_date, e.rank, e.track_id, e.streams,
           e.src_peak_rank, e.src_previous_rank, e.src_periods_on_chart
    from pg_temp.stage_entry e join stage_chart c using (chart_kind, region, period, chart_date)
    where not c.appends;

    insert into run_track
    select e.chart_kind, e.region, e.period, e.track_id
    from stage_chart s
    cross join lateral (
        select c.chart_date from core.chart c
        where (c.chart_kind, c.region, c.period) = (s.chart_kind, s.region, s.period)
          and c.chart_date > s.chart_date
        order by c.chart_date limit 1) nxt
    join core.chart_entry e on (e.chart_kind, e.region, e.period, e.chart_date) =
                               (s.chart_kind, s.region, s.period, nxt.chart_date)
    where not s.appends;

    for v_series in
        select s.chart_kind, s.region, s.period, min(s.chart_date) as from_date,
               (select array_agg(distinct r.track_id) from run_track r
                where (r.chart_kind, r.region, r.period) = (s.chart_kind, s.region, s.period))
                   as tracks
        from stage_chart s where not s.appends group by 1, 2, 3
    loop
        perform etl.recompute_chart_runs(v_series.chart_kind, v_series.region, v_series.period,
                                         v_series.from_date, v_series.tracks);
        perform etl.rebuild_chart_runs(v_series.chart_kind, v_series.region, v_series.period,
                                       v_series.tracks);
    end loop;
end $$;

-- The references core.chart_entry does not declare (see 0001_core.sql), checked: one row
-- per violation, none when the data is sound.
create function etl.check_integrity()
returns table (problem text, chart_kind text, region text, period text, chart_date date,
               detail text)
language sql stable as $$
    select 'chart entry without a chart', e.chart_kind, e.region, e.period, e.chart_date,
           count(*)::text || ' entries'
    from core.chart_entry e
    where not exists (select 1 from core.chart c where (c.chart_kind, c.region, c.period, c.chart_date)
                                                      = (e.chart_kind, e.region, e.period, e.chart_date))
    group by 2, 3, 4, 5
    union all
    select 'chart entry of an unknown track', e.chart_kind, e.region, e.period, e.chart_date, e.track_id
    from core.chart_entry e
    where not exists (select 1 from core.track t where t.track_id = e.track_id)
    union all
    select 'chart whose entry count is wrong', c.chart_kind, c.region, c.period, c.chart_date,
           c.entries || ' recorded, ' || count(e.rank) || ' present'
    from core.chart c
    left join core.chart_entry e using (chart_kind, region, period, chart_date)
    group by c.chart_kind, c.region, c.period, c.chart_date, c.entries
    having count(e.rank) <> c.entries
$$;
