-- The warehouse surface: a monthly per-track summary the loader maintains, the reporting
-- views BI tools and the API read, parameterised functions for leaderboards and track
-- history, and the BI role's privileges.

-- One row per track, chart series and month it charted in. Leaderboards over months or
-- years read this instead of the fact table (a year is ~12 rows per track instead of
-- ~365). day_mask has bit d-1 set when the track charted on day d of the month, so the
-- days an artist charted with any of their tracks are bit_count(bit_or(day_mask)).
create table core.track_month (
    chart_kind   text not null,
    region       text not null,
    period       text not null,
    month        date not null check (extract(day from month) = 1),
    track_id     text not null references core.track,
    entries      integer not null check (entries between 1 and 31),
    streams      bigint,
    number_ones  integer not null,
    top10        integer not null,
    best_rank    smallint not null,
    day_mask     integer not null,
    primary key (chart_kind, region, period, month, track_id)
);
create index track_month_track_idx on core.track_month (track_id);
-- Leaderboards look up the credits of every track-month they read: with the artist in the
-- index that is an index-only probe instead of a heap visit.
create index track_credit_cover_idx on core.track_credit (track_id) include (position, artist_id);
grant select on core.track_month to chartpulse_api;

-- Keeps track_month current after a merge: the entries of charts that extended their
-- series are added to their months; months holding replaced or back-filled charts are
-- rebuilt from the facts.
create function etl.refresh_track_months() returns void
language plpgsql as $$
begin
    insert into core.track_month as m (chart_kind, region, period, month, track_id, entries,
                                       streams, number_ones, top10, best_rank, day_mask)
    select chart_kind, region, period, date_trunc('month', chart_date)::date, track_id, count(*),
           sum(streams), count(*) filter (where rank = 1), count(*) filter (where rank <= 10),
           min(rank), bit_or(1 << (extract(day from chart_date)::integer - 1))
    from stage_derived
    group by 1, 2, 3, 4, 5
    order by 1, 2, 3, 4, 5
    on conflict (chart_kind, region, period, month, track_id) do update set
        entries = m.entries + excluded.entries,
        streams = case when m.streams is null and excluded.streams is null then null
                       else coalesce(m.streams, 0) + coalesce(excluded.streams, 0) end,
        number_ones = m.number_ones + excluded.number_ones,
        top10 = m.top10 + excluded.top10,
        best_rank = least(m.best_rank, excluded.best_rank),
        day_mask = m.day_mask | excluded.day_mask;

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

-- merge_stage's hook, run after the entries are in: keep the monthly summary current.
create or replace function etl.after_merge() returns void
language plpgsql as $$
begin
    perform etl.refresh_track_months();
end $$;

-- Rebuilds every summary from the fact table (`chartpulse refresh`, after a repair). It
-- deletes and inserts rather than truncating, so readers keep seeing the old rows until
-- it commits and are never blocked.
create procedure etl.refresh_summaries()
language plpgsql as $$
declare
    v_series record;
begin
    delete from core.track_month;
    insert into core.track_month (chart_kind, region, period, month, track_id, entries, streams,
                                  number_ones, top10, best_rank, day_mask)
    select chart_kind, region, period, date_trunc('month', chart_date)::date, track_id, count(*),
           sum(streams), count(*) filter (where rank = 1), count(*) filter (where rank <= 10),
           min(rank), bit_or(1 << (extract(day from chart_date)::integer - 1))
    from core.chart_entry
    group by 1, 2, 3, 4, 5;
    for v_series in select distinct chart_kind, region, period from core.chart loop
        perform etl.rebuild_chart_runs(v_series.chart_kind, v_series.region, v_series.period,
            array(select distinct track_id from core.chart_entry e
                  where (e.chart_kind, e.region, e.period) =
                        (v_series.chart_kind, v_series.region, v_series.period)));
    end loop;
end $$;

-- ---------------------------------------------------------------------------------------
-- reporting: the stable, documented surface (docs/bi.md). Column names are snake_case and
-- never change meaning; new columns may be added at the end.

create or replace view reporting.chart_entries as
select e.chart_kind, e.region, e.period, e.chart_date, e.rank, e.track_id,
       t.name as track_name, t.artist_names, e.streams, e.previous_rank, e.movement,
       e.peak_rank, e.periods_on_chart as days_on_chart, e.streak,
       (e.previous_rank - e.rank)::integer as rank_change
from core.chart_entry e
join core.track t using (track_id);

-- Per track and chart series: its whole chart run.
create view reporting.track_stats as
select r.chart_kind, r.region, r.period, r.track_id, t.name as track_name, t.artist_names,
       r.first_date as debut_date, r.first_rank as debut_rank,
       r.peak_rank, r.peak_date, r.last_date, r.last_rank,
       r.periods as days_on_chart, r.periods_at_1 as days_at_1, r.periods_top10 as days_in_top10,
       r.longest_streak, r.streak as last_streak, r.reentries, r.total_streams
from core.chart_run r
join core.track t using (track_id);

-- Artists' credits, resolved: every credited artist (credit_role 'all') and, again, the
-- first-credited artist alone (credit_role 'lead'), so a filter picks the credit rule.
create view reporting.credits as
select c.track_id, c.artist_id, a.spotify_id as artist_spotify_id, a.name as artist_name,
       'all'::text as credit_role, c.position
from core.track_credit c join core.artist a using (artist_id)
union all
select c.track_id, c.artist_id, a.spotify_id, a.name, 'lead', c.position
from core.track_credit c join core.artist a using (artist_id)
where c.position = 1;

-- Per artist, chart series and credit rule: totals over every charting track.
create view reporting.artist_stats as
select r.chart_kind, r.region, r.period, c.credit_role, c.artist_id, c.artist_spotify_id,
       c.artist_name,
       count(*) as tracks,
       sum(r.periods) as entries,
       sum(r.periods_at_1) as number_ones,
       sum(r.periods_top10) as top10_entries,
       min(r.peak_rank) as best_rank,
       min(r.first_date) as first_date,
       max(r.last_date) as last_date,
       sum(r.total_streams) as total_streams
from core.chart_run r
join reporting.credits c using (track_id)
group by r.chart_kind, r.region, r.period, c.credit_role, c.artist_id, c.artist_spotify_id,
         c.artist_name;

-- Per artist, series, credit rule and month: the grain leaderboards are built from.
create view reporting.artist_months as
select m.chart_kind, m.region, m.period, m.month, c.credit_role, c.artist_id,
       c.artist_spotify_id, c.artist_name,
       sum(m.streams) as streams,
       sum(m.entries) as entries,
       bit_count(bit_or(m.day_mask)::bit(32)) as days,
       sum(m.number_ones) as number_ones,
       count(*) as tracks
from core.track_month m
join reporting.credits c using (track_id)
group by m.chart_kind, m.region, m.period, m.month, c.credit_role, c.artist_id,
         c.artist_spotify_id, c.artist_name;

-- Per chart: its totals.
create view reporting.daily_totals as
select c.chart_kind, c.region, c.period, c.chart_date, c.entries,
       sum(e.streams) as total_streams,
       count(*) filter (where e.movement = 'new') as new_entries,
       count(*) filter (where e.movement = 're-entry') as reentries,
       count(*) filter (where e.movement = 'up') as moved_up,
       count(*) filter (where e.movement = 'down') as moved_down
from core.chart c
join core.chart_entry e using (chart_kind, region, period, chart_date)
group by c.chart_kind, c.region, c.period, c.chart_date, c.entries;

-- Chart positions that moved since the previous chart of their series, with the move.
create view reporting.movers as
select chart_kind, region, period, chart_date, rank, previous_rank, rank_change, track_id,
       track_name, artist_names, streams
from reporting.chart_entries
where previous_rank is not null and previous_rank <> rank;

-- Artists ranked over chart_date p_from .. p_to of one series, by streams, entries (chart
-- positions), days (dates with at least one charting track) or number_ones, crediting
-- every artist of a track (p_role 'all') or its first artist only ('lead'). Whole months
-- come from core.track_month; the days of partial months at either end from the fact table.
create function reporting.artist_leaderboard(
    p_region text, p_period text, p_from date, p_to date,
    p_by text default 'streams', p_role text default 'all', p_limit integer default 100,
    p_kind text default 'regional')
returns table (leaderboard_rank bigint, artist_id bigint, artist_spotify_id text, artist_name text,
               streams numeric, entries bigint, days bigint, number_ones bigint, tracks bigint)
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    with bounds as (
        select date_trunc('month', p_from)::date as first_month,
               date_trunc('month', p_to)::date as last_month,
               p_from = date_trunc('month', p_from)::date as first_whole,
               p_to = (date_trunc('month', p_to) + interval '1 month - 1 day')::date as last_whole
    ), whole as (
        select m.track_id, m.month, m.streams, m.entries, m.number_ones, m.day_mask
        from core.track_month m, bounds b
        where m.chart_kind = p_kind and m.region = p_region and m.period = p_period
          and m.month >= case when b.first_whole then b.first_month
                              else (b.first_month + interval '1 month')::date end
          and m.month <= case when b.last_whole then b.last_month
                              else (b.last_month - interval '1 month')::date end
    ), edge as (
        select e.track_id, date_trunc('month', e.chart_date)::date as month, sum(e.streams) as streams,
               count(*)::integer as entries, count(*) filter (where e.rank = 1)::integer as number_ones,
               bit_or(1 << (extract(day from e.chart_date)::integer - 1)) as day_mask
        from core.chart_entry e, bounds b
        where e.chart_kind = p_kind and e.region = p_region and e.period = p_period
          and e.chart_date between p_from and p_to
          and ((not b.first_whole and e.chart_date < (b.first_month + interval '1 month')::date)
               or (not b.last_whole and e.chart_date >= b.last_month))
        group by 1, 2
    ), months as (
        select * from whole union all select * from edge
    ), credit as materialized (
        -- one index probe of track_credit per distinct track (a year of a series: ~1,500),
        -- not per track-month and not a hash of all of track_credit (370k rows at 26M
        -- entries, 300 ms)
        select t.track_id, c.artist_id
        from (select distinct track_id from months) t
        cross join lateral (
            select tc.artist_id from core.track_credit tc
            where tc.track_id = t.track_id and (p_role = 'all' or tc.position = 1)
            offset 0) c
    ), credited as materialized (
        select c.artist_id, m.track_id, m.month, m.streams, m.entries, m.number_ones, m.day_mask
        from months m join credit c using (track_id)
    ), per_artist_month as (
        select artist_id, month, sum(streams) as streams, sum(entries) as entries,
               bit_count(bit_or(day_mask)::bit(32)) as days, sum(number_ones) as number_ones
        from credited
        group by artist_id, month
    ), per_artist as (
        select artist_id, sum(streams) as streams, sum(entries)::bigint as entries,
               sum(days)::bigint as days, sum(number_ones)::bigint as number_ones
        from per_artist_month group by artist_id
    ), tracks as (
        select artist_id, count(distinct track_id) as tracks from credited group by artist_id
    )
    select row_number() over (order by
               case p_by when 'streams' then coalesce(p.streams, 0)
                         when 'entries' then p.entries
                         when 'days' then p.days
                         when 'number_ones' then p.number_ones end desc,
               coalesce(p.streams, 0) desc, a.name, a.artist_id),
           a.artist_id, a.spotify_id, a.name, p.streams, p.entries, p.days, p.number_ones, t.tracks
    from per_artist p
    join core.artist a using (artist_id)
    join tracks t using (artist_id)
    order by 1
    limit p_limit
$$;

-- One track's chart positions in one series, oldest first.
create function reporting.track_history(
    p_track_id text, p_region text default 'global', p_period text default 'daily',
    p_from date default '-infinity', p_to date default 'infinity', p_kind text default 'regional')
returns table (chart_date date, rank smallint, streams bigint, previous_rank smallint,
               movement text, peak_rank smallint, days_on_chart integer, streak integer)
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    select e.chart_date, e.rank, e.streams, e.previous_rank, e.movement, e.peak_rank,
           e.periods_on_chart, e.streak
    from core.chart_entry e
    where e.track_id = p_track_id and e.region = p_region and e.period = p_period
      and e.chart_kind = p_kind and e.chart_date between p_from and p_to
    order by e.chart_date
$$;

-- ---------------------------------------------------------------------------------------
-- Privileges. chartpulse_bi reads the reporting schema and nothing else; the functions run
-- as their owner (security definer, fixed search_path) so they can read the core tables
-- the role cannot.
revoke all on all functions in schema reporting from public;
grant select on all tables in schema reporting to chartpulse_api, chartpulse_bi;
grant execute on all functions in schema reporting to chartpulse_api, chartpulse_bi;
revoke all on schema public from chartpulse_bi;
do $$
begin
    execute format('revoke temporary on database %I from public', current_database());
    execute format('grant temporary on database %I to chartpulse_api', current_database());
end $$;

-- The API lists a raw object's rejected rows (GET /v1/catalog/{id}/rejects).
grant usage on schema etl to chartpulse_api;
grant select on etl.reject to chartpulse_api;
