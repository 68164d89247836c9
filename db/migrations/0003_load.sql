-- The load step's merge: from the session's stage_entry table (filled by COPY) into the
-- core tables, in the caller's transaction, so an object loads whole or not at all.

-- Merges pg_temp.stage_entry, the validated rows of raw object p_object_id, and returns
-- how many chart entries were loaded. Charts the object carries replace any earlier
-- version of the same chart (the newest load wins); tracks are upserted, an empty title
-- or artist line never overwriting a known one; tracks that enrichment has not credited
-- get provisional artists split from their artist line; the chart-run columns of every
-- series the object touches are recomputed.
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

    -- Provisional credits: `A, B` -> A (lead), B (featured). Names with a comma inside,
    -- like `Tyler, The Creator`, split wrongly here; enrichment replaces these credits.
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

    insert into core.artist (name)
    select distinct name from credit_wanted
    on conflict (name) where spotify_id is null do nothing;

    create temp table credit_changed on commit drop as
    select track_id from (
        select track_id, string_agg(name, E'\x1f' order by position) as names from credit_wanted group by track_id
    ) w left join (
        select c.track_id, string_agg(a.name, E'\x1f' order by c.position) as names
        from core.track_credit c join core.artist a using (artist_id)
        where c.track_id in (select track_id from credit_wanted)
        group by c.track_id
    ) h using (track_id)
    where h.names is distinct from w.names;

    delete from core.track_credit where track_id in (select track_id from credit_changed);
    insert into core.track_credit (track_id, position, artist_id, role)
    select w.track_id, w.position, a.artist_id, case when w.position = 1 then 'lead' else 'featured' end
    from credit_wanted w
    join credit_changed using (track_id)
    join core.artist a on a.name = w.name and a.spotify_id is null;

    -- Charts: the tracks whose runs change are those staged, those on the replaced
    -- versions of these charts, and those on the chart that follows each loaded one.
    create temp table stage_chart on commit drop as
    select chart_kind, region, period, chart_date, count(*)::integer as entries
    from pg_temp.stage_entry group by 1, 2, 3, 4;
    analyze stage_chart;

    create temp table run_track on commit drop as
    select distinct chart_kind, region, period, track_id from pg_temp.stage_entry
    union
    select e.chart_kind, e.region, e.period, e.track_id
    from core.chart_entry e join stage_chart using (chart_kind, region, period, chart_date);

    delete from core.chart c using stage_chart s
    where (c.chart_kind, c.region, c.period, c.chart_date) = (s.chart_kind, s.region, s.period, s.chart_date);

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
                where (r.chart_kind, r.region, r.period) = (s.chart_kind, s.region, s.period)) as tracks
        from stage_chart s group by 1, 2, 3
    loop
        perform etl.recompute_chart_runs(v_series.chart_kind, v_series.region, v_series.period,
                                         v_series.from_date, v_series.tracks);
    end loop;

    update catalog.raw_object set
        loaded_at = now(),
        rows_loaded = v_rows,
        rows_rejected = (select count(*) from etl.reject r where r.object_id = p_object_id),
        load_error = null
    where object_id = p_object_id;

    return v_rows;
end $$;
