-- What the dashboard reads beside the chart itself, as reporting functions BI tools may
-- call too (docs/bi.md): a series' chart dates, one song or one artist on one date in
-- every region, an artist's share of a series' streams over time. Every number follows
-- SPEC §4a: shown run values are the source's where the file had them, songs group
-- relinked ids, and only loaded charts count.

-- The dates of every loaded chart of one series, oldest first (core.chart's primary key).
create function reporting.chart_dates(p_region text, p_period text default 'daily',
                                      p_kind text default 'regional')
returns table (chart_date date)
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    select c.chart_date from core.chart c
    where c.chart_kind = p_kind and c.region = p_region and c.period = p_period
    order by c.chart_date
$$;

-- The track ids of p_track_id's song (every relinked id of it; the id alone when it has
-- no other).
create function reporting.song_track_ids(p_track_id text)
returns text[]
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    select coalesce(array_agg(m.track_id order by m.track_id)
                        filter (where m.track_id is not null), array[p_track_id])
    from core.song_member s
    join core.song_member m on m.song_id = s.song_id
    where s.track_id = p_track_id
$$;

-- The regions whose series (p_period, p_kind) has any loaded chart: global first, then by
-- code. One primary-key probe of core.chart per known region.
create function reporting.series_regions(p_period text, p_kind text)
returns table (region text, name text)
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    select r.region_code, r.name from core.region r
    where exists (select 1 from core.chart c
                  where c.chart_kind = p_kind and c.region = r.region_code
                    and c.period = p_period)
    order by r.region_code <> 'global', r.region_code
$$;

-- The latest chart date on which any of p_track_ids charted in any region of the period
-- and kind (NULL: never); one probe of chart_entry_track_idx per id.
create function reporting.latest_entry_date(p_track_ids text[], p_period text, p_kind text)
returns date
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    select max(e.chart_date) from core.chart_entry e
    where e.track_id = any (p_track_ids) and e.period = p_period and e.chart_kind = p_kind
$$;

-- One song (p_track_id and every id relinked to it) on the p_date chart of every region
-- whose series has a chart (NULL p_date: the latest chart date on which the song charted
-- in any region). chart_loaded is false where that region has no chart on the date (the
-- rank columns are then NULL), on_chart false where it has one without the song. The run
-- columns are reporting.chart_entries' (the source's where the file had them); track_id
-- is the id that charted. No rows when the song never charted in the series.
create function reporting.track_regions(p_track_id text, p_date date default null,
                                        p_period text default 'daily',
                                        p_kind text default 'regional')
returns table (chart_date date, region text, region_name text, chart_loaded boolean,
               on_chart boolean, track_id text, rank smallint, streams bigint,
               previous_rank smallint, movement text, peak_rank smallint,
               periods_on_chart integer, run_source text)
language plpgsql stable security definer set search_path = pg_catalog, core, reporting as $$
#variable_conflict use_column
declare
    v_ids text[] := reporting.song_track_ids(p_track_id);
    v_date date := p_date;
begin
    v_date := coalesce(v_date, reporting.latest_entry_date(v_ids, p_period, p_kind));
    if v_date is null then
        return;
    end if;
    return query
    select v_date, r.region, r.name, c.chart_date is not null, e.rank is not null, e.track_id,
           e.rank, e.streams, e.previous_rank, e.movement, e.peak_rank, e.periods_on_chart,
           e.run_source
    from reporting.series_regions(p_period, p_kind) r
    left join core.chart c
        on c.chart_kind = p_kind and c.region = r.region and c.period = p_period
       and c.chart_date = v_date
    left join lateral (
        select x.track_id, x.rank, x.streams, x.previous_rank, x.movement, x.peak_rank,
               x.periods_on_chart, x.run_source
        from reporting.chart_entries x
        where x.chart_kind = p_kind and x.region = r.region and x.period = p_period
          and x.chart_date = v_date and x.track_id = any (v_ids)
        order by x.rank limit 1) e on c.chart_date is not null
    order by r.region <> 'global', r.region;
end $$;

-- The artist's internal id for a public id or a Spotify id (the Spotify id wins).
create function reporting.artist_key(p_artist_id text)
returns bigint
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    select a.artist_id from core.artist a
    where a.public_id = p_artist_id or a.spotify_id = p_artist_id
    order by a.spotify_id = p_artist_id desc nulls last limit 1
$$;

-- One artist (credited on the track: every credited artist counts) on the p_date chart of
-- every region whose series has a chart (NULL p_date: the latest chart date on which the
-- artist charted anywhere). entries: positions crediting the artist on that chart;
-- best_rank and best_track_id: the best-ranked of them; streams: their sum (NULL when
-- none had streams). No rows when the artist never charted in the series.
create function reporting.artist_regions(p_artist_id text, p_date date default null,
                                         p_period text default 'daily',
                                         p_kind text default 'regional')
returns table (chart_date date, region text, region_name text, chart_loaded boolean,
               entries bigint, best_rank smallint, best_track_id text, streams numeric)
language plpgsql stable security definer set search_path = pg_catalog, core, reporting as $$
#variable_conflict use_column
declare
    v_ids text[];
    v_date date := p_date;
begin
    select array_agg(c.track_id) into v_ids from core.track_credit c
    where c.artist_id = reporting.artist_key(p_artist_id);
    if v_ids is null then
        return;
    end if;
    v_date := coalesce(v_date, reporting.latest_entry_date(v_ids, p_period, p_kind));
    if v_date is null then
        return;
    end if;
    return query
    select v_date, r.region, r.name, c.chart_date is not null, coalesce(e.entries, 0),
           e.best_rank, e.best_track_id, e.streams
    from reporting.series_regions(p_period, p_kind) r
    left join core.chart c
        on c.chart_kind = p_kind and c.region = r.region and c.period = p_period
       and c.chart_date = v_date
    left join lateral (
        select count(*) as entries, min(x.rank) as best_rank,
               (array_agg(x.track_id order by x.rank))[1] as best_track_id,
               sum(x.streams) as streams
        from core.chart_entry x
        where x.chart_kind = p_kind and x.region = r.region and x.period = p_period
          and x.chart_date = v_date and x.track_id = any (v_ids)) e on c.chart_date is not null
    order by r.region <> 'global', r.region;
end $$;

-- An artist's chart streams per bucket (p_granularity day|week|month: weeks start on
-- Monday, months on the 1st, as /v1/trends/streams) beside the series' total, over the
-- charts dated p_from .. p_to. One row per bucket with a loaded chart: chart_streams is
-- the sum of every position's streams (reporting.daily_totals summed, as
-- /v1/trends/streams), streams the sum over the positions crediting the artist (p_role
-- 'all': any credit, 'lead': the first), 0 where the artist had none (NULL on charts
-- without streams), share their ratio to 6 decimals. charts counts the bucket's charts,
-- artist_charts those the artist was on.
create function reporting.artist_streams(
    p_artist_id text, p_region text default 'global', p_period text default 'daily',
    p_kind text default 'regional', p_role text default 'all', p_granularity text default 'day',
    p_from date default '-infinity', p_to date default 'infinity')
returns table (bucket date, streams numeric, chart_streams numeric, share numeric,
               entries bigint, charts bigint, artist_charts bigint)
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    with tracks as (
        select c.track_id from core.track_credit c
        where c.artist_id = reporting.artist_key(p_artist_id)
          and (p_role = 'all' or c.position = 1)
    ), artist as (
        select date_trunc(p_granularity, e.chart_date::timestamp)::date as bucket,
               sum(e.streams) as streams, count(*) as entries,
               count(distinct e.chart_date) as artist_charts
        from core.chart_entry e
        where e.track_id in (select track_id from tracks) and e.region = p_region
          and e.period = p_period and e.chart_kind = p_kind
          and e.chart_date between p_from and p_to
        group by 1
    ), totals as (
        select date_trunc(p_granularity, d.chart_date::timestamp)::date as bucket,
               sum(d.total_streams) as chart_streams, count(*) as charts
        from reporting.daily_totals d
        where d.chart_kind = p_kind and d.region = p_region and d.period = p_period
          and d.chart_date between p_from and p_to
        group by 1
    )
    select t.bucket,
           case when t.chart_streams is not null then coalesce(a.streams, 0) end,
           t.chart_streams,
           case when t.chart_streams > 0 then round(coalesce(a.streams, 0) / t.chart_streams, 6) end,
           coalesce(a.entries, 0), t.charts, coalesce(a.artist_charts, 0)
    from totals t left join artist a using (bucket)
    order by t.bucket
$$;

-- The charts of one series dated p_from .. p_to (NULL: open) and what they cover:
-- from_date and to_date are the first and last loaded chart in the range (NULL when there
-- is none), charts how many are loaded, charts_expected the periods from from_date to
-- to_date inclusive (days, or weeks on weekly series), history_complete whether no period
-- between them lacks its chart.
create function reporting.series_range(p_region text, p_period text default 'daily',
                                       p_kind text default 'regional', p_from date default null,
                                       p_to date default null)
returns table (from_date date, to_date date, charts bigint, charts_expected bigint,
               history_complete boolean)
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    with charts as (
        select c.chart_date, lag(c.chart_date) over (order by c.chart_date) as previous_date
        from core.chart c
        where c.chart_kind = p_kind and c.region = p_region and c.period = p_period
          and c.chart_date between coalesce(p_from, '-infinity') and coalesce(p_to, 'infinity')
    )
    select min(chart_date), max(chart_date), count(*),
           coalesce((max(chart_date) - min(chart_date)) / core.period_days(p_period) + 1, 0)::bigint,
           coalesce(bool_and(previous_date is null
                             or chart_date - previous_date <= core.period_days(p_period)), true)
    from charts
$$;

-- Records of one series over its charts dated p_from .. p_to, counted over the loaded
-- charts only, songs not ids (a relinked song counts once; number_ones and longest_runs
-- name it by the id of its latest entry in the range, the position lists by the id that
-- held the position), up to p_limit rows per record:
--   number_ones     songs by charts at #1 (periods), first_date .. last_date at #1;
--   longest_runs    each song's longest run of consecutive periods on the chart (a
--                   missing chart breaks it), first_date .. last_date, ongoing when it
--                   includes the range's last chart;
--   biggest_debuts  each song's best position shown with movement 'new' (never charted
--                   in the series before), best rank first, then most streams;
--   most_streams    each song's position with the most streams (none on viral charts).
-- track_name and artist_names are the track's (its newest title, its richest credit line).
create function reporting.chart_records(p_region text, p_period text default 'daily',
                                        p_kind text default 'regional', p_from date default null,
                                        p_to date default null, p_limit integer default 10)
returns table (record text, place bigint, song_id text, track_id text, track_name text,
               artist_names text, periods bigint, first_date date, last_date date,
               chart_date date, rank smallint, streams bigint, ongoing boolean)
language plpgsql stable security definer set search_path = pg_catalog, core, reporting as $$
#variable_conflict use_column
declare
    v_from date;
    v_to date;
    v_step integer := core.period_days(p_period);
begin
    select r.from_date, r.to_date into v_from, v_to
    from reporting.series_range(p_region, p_period, p_kind, p_from, p_to) r;
    if v_from is null then
        return;
    end if;
    return query
    with entries as materialized (
        -- ids are ASCII: byte order sorts and groups them several times faster than a
        -- locale's collation
        select e.chart_date, e.rank, e.track_id collate "C" as track_id, e.streams,
               coalesce(s.song_id, e.track_id) collate "C" as song_id,
               (e.chart_date - v_from) / v_step as period_no,
               core.shown_movement(e.rank, e.src_previous_rank, e.src_periods_on_chart,
                                   e.derived_movement) as movement
        from core.chart_entry e
        left join core.song_member s on s.track_id = e.track_id
        where e.chart_kind = p_kind and e.region = p_region and e.period = p_period
          and e.chart_date between v_from and v_to
    ), song_name as materialized (
        -- each song's id on its latest entry in the range names it
        select distinct on (x.song_id) x.song_id, x.track_id
        from entries x order by x.song_id, x.chart_date desc, x.rank
    ), number_ones as (
        select 'number_ones'::text as record, x.song_id, n.track_id,
               count(distinct x.period_no) as periods, min(x.chart_date) as first_date,
               max(x.chart_date) as last_date
        from entries x join song_name n using (song_id)
        where x.rank = 1
        group by x.song_id, n.track_id
        order by periods desc, first_date, x.song_id
        limit p_limit
    ), runs as (
        -- consecutive periods share period_no - dense_rank (two ids of one song on one
        -- chart count once)
        select x.song_id, x.period_no,
               x.period_no - dense_rank() over (partition by x.song_id order by x.period_no)
                   as run_group,
               x.chart_date
        from entries x
    ), run_totals as (
        select r.song_id, max(r.period_no) - min(r.period_no) + 1 as periods,
               min(r.chart_date) as first_date, max(r.chart_date) as last_date
        from runs r group by r.song_id, r.run_group
    ), longest_runs as (
        select 'longest_runs'::text as record, b.* from (
            select distinct on (t.song_id) t.song_id, n.track_id, t.periods::bigint,
                   t.first_date, t.last_date
            from run_totals t join song_name n using (song_id)
            order by t.song_id, t.periods desc, t.last_date desc) b
        order by b.periods desc, b.last_date desc, b.song_id
        limit p_limit
    ), debuts as (
        select 'biggest_debuts'::text as record, b.* from (
            select distinct on (x.song_id) x.song_id, x.track_id, x.chart_date, x.rank,
                   x.streams
            from entries x where x.movement = 'new'
            order by x.song_id, x.rank, x.streams desc nulls last, x.chart_date) b
        order by b.rank, b.streams desc nulls last, b.chart_date, b.song_id
        limit p_limit
    ), top_streams as (
        select 'most_streams'::text as record, b.* from (
            select distinct on (x.song_id) x.song_id, x.track_id, x.chart_date, x.rank,
                   x.streams
            from entries x where x.streams is not null
            order by x.song_id, x.streams desc, x.chart_date) b
        order by b.streams desc, b.chart_date, b.song_id
        limit p_limit
    ), listed as (
        select n.record, row_number() over (order by n.periods desc, n.first_date, n.song_id) as place,
               n.song_id, n.track_id, n.periods, n.first_date, n.last_date,
               null::date as chart_date, null::smallint as rank, null::bigint as streams,
               null::boolean as ongoing
        from number_ones n
        union all
        select l.record, row_number() over (order by l.periods desc, l.last_date desc, l.song_id),
               l.song_id, l.track_id, l.periods, l.first_date, l.last_date, null, null, null,
               l.last_date = v_to
        from longest_runs l
        union all
        select d.record, row_number() over (order by d.rank, d.streams desc nulls last,
                                                   d.chart_date, d.song_id),
               d.song_id, d.track_id, null, null, null, d.chart_date, d.rank, d.streams, null
        from debuts d
        union all
        select m.record, row_number() over (order by m.streams desc, m.chart_date, m.song_id),
               m.song_id, m.track_id, null, null, null, m.chart_date, m.rank, m.streams, null
        from top_streams m
    )
    select l.record, l.place, l.song_id, l.track_id, t.name, t.artist_names, l.periods,
           l.first_date, l.last_date, l.chart_date, l.rank, l.streams, l.ongoing
    from listed l join core.track t on t.track_id = l.track_id
    order by case l.record when 'number_ones' then 1 when 'longest_runs' then 2
                           when 'biggest_debuts' then 3 else 4 end, l.place;
end $$;

revoke all on function reporting.chart_dates(text, text, text),
    reporting.song_track_ids(text), reporting.series_regions(text, text),
    reporting.latest_entry_date(text[], text, text),
    reporting.track_regions(text, date, text, text), reporting.artist_key(text),
    reporting.artist_regions(text, date, text, text),
    reporting.artist_streams(text, text, text, text, text, text, date, date),
    reporting.series_range(text, text, text, date, date),
    reporting.chart_records(text, text, text, date, date, integer) from public;
grant execute on function reporting.chart_dates(text, text, text),
    reporting.song_track_ids(text), reporting.series_regions(text, text),
    reporting.latest_entry_date(text[], text, text),
    reporting.track_regions(text, date, text, text), reporting.artist_key(text),
    reporting.artist_regions(text, date, text, text),
    reporting.artist_streams(text, text, text, text, text, text, date, date),
    reporting.series_range(text, text, text, date, date),
    reporting.chart_records(text, text, text, date, date, integer)
    to chartpulse_api, chartpulse_bi;
