-- Chart facts an analyst can hold against charts.spotify.com and kworb (SPEC §4a):
--
--  * the source's own chart-run columns win: a charts.spotify.com row's peak_rank,
--    previous_rank and days/weeks on chart are the entry's values; the values chartpulse
--    derives from the loaded history are kept beside them as derived_* and every entry
--    says which it shows (run_source);
--  * the previous chart is the previous period (the day or week before), not the previous
--    loaded chart: where that period is not loaded the derived movement is 'unknown' and a
--    streak does not run across the hole;
--  * each entry keeps the artist line its file printed; a track's credits come from the
--    richest source seen, and single-artist fields are never split on commas;
--  * a track's title is the one printed on its most recent chart date;
--  * relinked track ids (a new id for the same song) are grouped into songs;
--  * artists have stable public ids.

-- ---------------------------------------------------------------------------------------
-- Chart entries: derived columns by name, 'unknown' movement, the printed artist line.

drop view reporting.movers;
drop view reporting.daily_totals;
drop view reporting.track_stats;
drop view reporting.artist_stats;
drop view reporting.artist_months;
drop view reporting.credits;
drop view reporting.chart_entries;
drop function reporting.track_history(text, text, text, date, date, text);
drop function reporting.artist_leaderboard(text, text, date, date, text, text, integer, text);

alter table core.chart_entry rename column previous_rank to derived_previous_rank;
alter table core.chart_entry rename column movement to derived_movement;
alter table core.chart_entry rename column peak_rank to derived_peak_rank;
alter table core.chart_entry rename column periods_on_chart to derived_periods_on_chart;

do $$
declare
    v_name text;
begin
    -- the two checks that name the movements (their generated names differ between a
    -- table made by 0001 and one restored from a dump, so find them by their text)
    for v_name in
        select conname from pg_constraint
        where conrelid = 'core.chart_entry'::regclass and contype = 'c'
          and pg_get_constraintdef(oid) like '%derived_movement%'
    loop
        execute format('alter table core.chart_entry drop constraint %I', v_name);
    end loop;
end $$;
alter table core.chart_entry add constraint chart_entry_movement_check
    check (derived_movement in ('up', 'down', 'same', 'new', 're-entry', 'unknown'));
-- a previous rank exactly when the track was on the previous period's chart
alter table core.chart_entry add constraint chart_entry_movement_rank_check
    check (derived_movement is null
           or (derived_movement in ('new', 're-entry', 'unknown')) = (derived_previous_rank is null));

-- The artist line as the entry's file printed it (credits drift between sources: the
-- legacy spotifycharts.com files print only the lead artist).
alter table core.chart_entry add column artist_names text;
update core.chart_entry e set artist_names = t.artist_names
from core.track t where t.track_id = e.track_id;

-- ---------------------------------------------------------------------------------------
-- Tracks: where the title and the credit line came from.

-- name_date: the chart date the title was printed on (the most recent wins).
-- credit_source: how rich the credit line is, 0..3 (etl.credit_source); credit_date: the
-- chart date it was printed on. A richer source wins; among equals the most recent date.
alter table core.track
    add column name_date date,
    add column credit_source smallint not null default 0 check (credit_source between 0 and 3),
    add column credit_date date;

-- How rich a format's artist field is:
--   3 the Web API's artists (enrichment: ids and every credited artist)
--   2 a full credit line, comma-joined (charts.spotify.com, Kaggle charts.csv, playlists)
--   1 a field that holds one artist (legacy spotifycharts.com `Artist`, Kaggle 2017),
--     often the lead alone ("Luis Fonsi" for Despacito - Remix); never split on commas
create function etl.credit_source(p_format text) returns smallint
language sql immutable parallel safe as $$
    select case when p_format in ('spotifycharts.com', 'kaggle-2017') then 1 else 2 end::smallint
$$;

-- Artists: whether the name was seen as a whole single-artist field (so a credit line
-- containing it must not be split inside it: "Tyler, The Creator"), and a public id that
-- does not change when the tables are rebuilt: the Spotify id once enriched, else one
-- derived from the name (provisional names are unique).
alter table core.artist
    add column single_field boolean not null default false,
    add column public_id text generated always as
        (coalesce(spotify_id, 'pa-' || substr(md5(name), 1, 16))) stored;
create index artist_public_id_idx on core.artist (public_id);
create index artist_name_idx on core.artist (name);

alter type etl.staged_track add attribute chart_date date;
alter type etl.staged_track add attribute credit_source smallint;

-- Whether a title printed on p_new_date replaces the one printed on p_old_date: the most
-- recent chart date wins (a backfill of 2017 files does not rename a 2025 hit); an empty
-- title never replaces a known one.
create function etl.title_wins(p_old text, p_old_date date, p_new text, p_new_date date)
returns boolean language sql immutable parallel safe as $$
    select p_new <> '' and (p_old is null or p_old = '' or p_old_date is null
                            or (p_new_date is not null and p_new_date >= p_old_date))
$$;

-- Whether a credit line replaces the track's: a richer source wins (etl.credit_source),
-- among equals the most recent chart date; an empty line never replaces a known one.
create function etl.credit_wins(p_old text, p_old_source smallint, p_old_date date,
                                p_new text, p_new_source smallint, p_new_date date)
returns boolean language sql immutable parallel safe as $$
    select p_new <> '' and (p_old is null or p_old = '' or p_new_source > p_old_source
                            or (p_new_source = p_old_source
                                and (p_old_date is null
                                     or (p_new_date is not null and p_new_date >= p_old_date))))
$$;

-- Upserts tracks (etl.title_wins, etl.credit_wins; a label goes with the title) and
-- returns the ids inserted or changed: only their provisional credits can need work. Rows
-- go in key order so concurrent loads lock in one order.
create or replace function etl.upsert_tracks(p_tracks etl.staged_track[]) returns text[]
language sql as $$
    with upserted as (
        insert into core.track as t (track_id, name, artist_names, label, name_date,
                                     credit_source, credit_date)
        select s.track_id, s.name, s.artist_names, s.label,
               case when s.name <> '' then s.chart_date end,
               case when s.artist_names <> '' then coalesce(s.credit_source, 2) else 0 end,
               case when s.artist_names <> '' then s.chart_date end
        from unnest(p_tracks) s
        order by s.track_id
        on conflict (track_id) do update set
            name = case when etl.title_wins(t.name, t.name_date, excluded.name, excluded.name_date)
                        then excluded.name else t.name end,
            name_date = case when etl.title_wins(t.name, t.name_date, excluded.name, excluded.name_date)
                             then excluded.name_date else t.name_date end,
            label = case when excluded.label is not null
                          and (t.label is null
                               or etl.title_wins(t.name, t.name_date, excluded.name, excluded.name_date))
                         then excluded.label else t.label end,
            artist_names = case when etl.credit_wins(t.artist_names, t.credit_source, t.credit_date,
                                                     excluded.artist_names, excluded.credit_source,
                                                     excluded.credit_date)
                                then excluded.artist_names else t.artist_names end,
            credit_source = case when etl.credit_wins(t.artist_names, t.credit_source, t.credit_date,
                                                      excluded.artist_names, excluded.credit_source,
                                                      excluded.credit_date)
                                 then excluded.credit_source else t.credit_source end,
            credit_date = case when etl.credit_wins(t.artist_names, t.credit_source, t.credit_date,
                                                    excluded.artist_names, excluded.credit_source,
                                                    excluded.credit_date)
                               then excluded.credit_date else t.credit_date end,
            updated_at = now()
        -- rows that nothing changes are left alone (no new row version, no lock held)
        where etl.title_wins(t.name, t.name_date, excluded.name, excluded.name_date)
                  and (t.name, t.name_date, t.label) is distinct from
                      (excluded.name, excluded.name_date, coalesce(excluded.label, t.label))
              or etl.credit_wins(t.artist_names, t.credit_source, t.credit_date,
                                 excluded.artist_names, excluded.credit_source, excluded.credit_date)
                  and (t.artist_names, t.credit_source, t.credit_date) is distinct from
                      (excluded.artist_names, excluded.credit_source, excluded.credit_date)
              or excluded.label is not null and t.label is null
        returning t.track_id)
    select coalesce(array_agg(track_id), '{}') from upserted
$$;

-- Splits a credit line into artists, in order, each once. A line from a single-artist
-- field (p_single) is one artist whatever commas it holds. A full credit line is split at
-- ", ", except where consecutive pieces joined again form a name known to be one artist:
-- one seen as a whole single-artist field or credited by the Web API ("Tyler, The
-- Creator, Kali Uchis" -> "Tyler, The Creator", "Kali Uchis"). The longest known name
-- wins, up to SPLIT_JOIN_MAX pieces.
create function etl.split_artist_line(p_line text, p_single boolean)
returns table (pos smallint, name text)
language plpgsql stable as $$
#variable_conflict use_column
declare
    split_join_max constant integer := 4;
    v_pieces text[];
    v_n integer;
    v_i integer := 1;
    v_k integer;
    v_take integer;
    v_pos smallint := 0;
    v_name text;
    v_seen text[] := '{}';
begin
    if btrim(coalesce(p_line, '')) = '' then
        return;
    end if;
    if p_single then
        pos := 1;
        name := btrim(p_line);
        return next;
        return;
    end if;
    v_pieces := string_to_array(p_line, ', ');
    v_n := cardinality(v_pieces);
    while v_i <= v_n loop
        v_take := 1;
        for v_k in reverse least(split_join_max, v_n - v_i + 1) .. 2 loop
            v_name := array_to_string(v_pieces[v_i:v_i + v_k - 1], ', ');
            if exists (select 1 from core.artist a
                       where a.name = v_name and (a.single_field or not a.provisional)) then
                v_take := v_k;
                exit;
            end if;
        end loop;
        v_name := btrim(array_to_string(v_pieces[v_i:v_i + v_take - 1], ', '));
        v_i := v_i + v_take;
        if v_name <> '' and not v_name = any (v_seen) then
            v_seen := v_seen || v_name;
            v_pos := v_pos + 1;
            pos := v_pos;
            name := v_name;
            return next;
        end if;
    end loop;
end $$;

-- Provisional credits for the given tracks when enrichment has not credited them, split
-- from their credit line by etl.split_artist_line. p_single_names are the artist fields
-- of single-artist formats the object printed: each is one artist, remembered as such
-- (core.artist.single_field). When such a name holds ", ", the tracks whose full credit
-- lines contain it are split again, so the result does not depend on the order the files
-- were loaded in.
drop function etl.merge_provisional_credits(text[]);
create function etl.merge_provisional_credits(p_tracks text[], p_single_names text[])
returns void language plpgsql as $$
begin
    create temp table credit_new_whole on commit drop as
    with marked as (
        insert into core.artist as a (name, single_field)
        select distinct btrim(n), true from unnest(p_single_names) n
        where btrim(n) <> ''
        order by 1
        on conflict (name) where spotify_id is null do update set single_field = true,
                                                                 updated_at = now()
        where not a.single_field
        returning a.name)
    select name from marked where name like '%, %';

    if cardinality(p_tracks) = 0 and not exists (select 1 from credit_new_whole) then
        return;
    end if;

    create temp table credit_wanted on commit drop as
    select t.track_id, n.pos as position, n.name
    from (select unnest(p_tracks) as track_id
          union
          select t.track_id from core.track t join credit_new_whole w
              on t.credit_source = 2 and t.artist_names like '%' || w.name || '%') s
    join core.track t using (track_id)
    cross join lateral etl.split_artist_line(t.artist_names, t.credit_source = 1) n
    where t.credit_source < 3
      and not exists (select 1 from core.track_credit c join core.artist a using (artist_id)
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

    -- the artists the changed tracks were credited to, to drop those left without a credit
    -- (a re-split "Tyler, The Creator" leaves a provisional "The Creator" behind)
    create temp table credit_old_artists on commit drop as
    select distinct artist_id from core.track_credit
    where track_id in (select track_id from credit_changed);

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

    delete from core.artist a
    using credit_old_artists o
    where a.artist_id = o.artist_id and a.provisional and not a.single_field
      and not exists (select 1 from core.track_credit c where c.artist_id = a.artist_id);
end $$;

-- Web API credits are the richest: the track's credit line becomes theirs.
create or replace function etl.replace_track_credits(p_track_id text, p_artists jsonb) returns void
language plpgsql as $$
declare
    v_credits jsonb; -- [{id, name}] in credit order, each artist once
    v_old bigint[];
begin
    select jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name) order by c.first_ord)
    into v_credits
    from (select x.a->>'id' as id, min(x.ord) as first_ord,
                 (array_agg(coalesce(x.a->>'name', '') order by x.ord))[1] as name
          from jsonb_array_elements(coalesce(p_artists, '[]'::jsonb)) with ordinality as x(a, ord)
          where jsonb_typeof(x.a) = 'object' and x.a->>'id' ~ '^[0-9A-Za-z]{22}$'
          group by x.a->>'id') c;
    if v_credits is null then
        return;
    end if;

    insert into core.artist as a (spotify_id, name, provisional)
    select c->>'id', c->>'name', false from jsonb_array_elements(v_credits) c
    on conflict (spotify_id) do update set
        name = coalesce(nullif(excluded.name, ''), a.name),
        provisional = false,
        updated_at = now()
    where (a.name, a.provisional) is distinct from (coalesce(nullif(excluded.name, ''), a.name), false);

    select coalesce(array_agg(artist_id), '{}') into v_old
    from core.track_credit where track_id = p_track_id;

    delete from core.track_credit where track_id = p_track_id;
    insert into core.track_credit (track_id, position, artist_id, role)
    select p_track_id, c.ord, a.artist_id, case when c.ord = 1 then 'lead' else 'featured' end
    from jsonb_array_elements(v_credits) with ordinality as c(e, ord)
    join core.artist a on a.spotify_id = c.e->>'id';

    update core.track t set
        artist_names = (select string_agg(c->>'name', ', ' order by ord)
                        from jsonb_array_elements(v_credits) with ordinality as x(c, ord)),
        credit_source = 3, updated_at = now()
    where t.track_id = p_track_id;

    delete from core.artist a
    where a.artist_id = any (v_old) and a.provisional
      and not exists (select 1 from core.track_credit c where c.artist_id = a.artist_id);
end $$;

-- ---------------------------------------------------------------------------------------
-- Derived chart runs by period.

-- The length of a series' period in days.
create function core.period_days(p_period text) returns integer
language sql immutable parallel safe as $$
    select case p_period when 'weekly' then 7 else 1 end
$$;

-- Recomputes the derived chart-run columns of one series for the given tracks, from
-- p_from on. The previous chart is the previous period's: a track on it continues its
-- streak and has a previous rank; a track not on it is new (never charted in the series)
-- or a re-entry; when that period is not loaded the movement is 'unknown' and a new
-- streak starts. Peak and charts on count every loaded chart up to this one.
create or replace function etl.recompute_chart_runs(p_kind text, p_region text, p_period text,
                                                    p_from date, p_tracks text[])
returns integer language sql as $$
    with runs as (
        select e.chart_date, e.rank, e.track_id,
               coalesce(lag(e.chart_date) over t = e.chart_date - core.period_days(p_period),
                        false) as continues,
               lag(e.chart_date) over t is null as first_seen,
               lag(e.rank) over t as prev_rank,
               min(e.rank) over (t rows between unbounded preceding and current row) as peak,
               row_number() over t as n
        from core.chart_entry e
        where e.chart_kind = p_kind and e.region = p_region and e.period = p_period
          and e.track_id = any (p_tracks)
        window t as (partition by e.track_id order by e.chart_date)
    ), grouped as (
        -- whether the previous period is loaded: a primary-key probe of core.chart, and only
        -- where the run does not continue (a join to the series' charts was planned as a
        -- nested loop over them for every entry: minutes on a 45-chart series)
        select r.*,
               r.continues or exists (
                   select 1 from core.chart p
                   where p.chart_kind = p_kind and p.region = p_region and p.period = p_period
                     and p.chart_date = r.chart_date - core.period_days(p_period)) as prev_loaded,
               sum(case when r.continues then 0 else 1 end)
                   over (partition by r.track_id order by r.chart_date
                         rows between unbounded preceding and current row) as run_group
        from runs r
    ), derived as (
        select chart_date, rank, peak, n::integer as n,
               (row_number() over (partition by track_id, run_group order by chart_date))::integer
                   as streak,
               case when continues then prev_rank end as previous_rank,
               case when continues then case when prev_rank > rank then 'up'
                                             when prev_rank < rank then 'down'
                                             else 'same' end
                    when not prev_loaded then 'unknown'
                    when first_seen then 'new'
                    else 're-entry' end as movement
        from grouped
    ), changed as (
        update core.chart_entry e set
            derived_previous_rank = d.previous_rank,
            derived_movement = d.movement,
            derived_peak_rank = d.peak,
            derived_periods_on_chart = d.n,
            streak = d.streak
        from derived d
        where e.chart_kind = p_kind and e.region = p_region and e.period = p_period
          and e.chart_date = d.chart_date and e.rank = d.rank and d.chart_date >= p_from
          and (e.derived_previous_rank, e.derived_movement, e.derived_peak_rank,
               e.derived_periods_on_chart, e.streak)
              is distinct from (d.previous_rank, d.movement, d.peak, d.n, d.streak)
        returning 1
    )
    select count(*)::integer from changed
$$;

-- The recomputation above changes the runs of the tracks on the chart one period after a
-- staged chart (their previous period just appeared), not only those on the next loaded
-- chart: etl.merge_charts collects both.
create or replace function etl.merge_charts(p_object_id bigint) returns void
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
                                  src_peak_rank, src_previous_rank, src_periods_on_chart,
                                  artist_names)
    select chart_kind, region, period, chart_date, rank, track_id, streams,
           src_peak_rank, src_previous_rank, src_periods_on_chart, artist_names
    from pg_temp.stage_entry;

    -- every later chart of a staged track's series can change (peak, charts on); the
    -- tracks of the next loaded chart and of the chart one period later can change too
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
    union
    select e.chart_kind, e.region, e.period, e.track_id
    from stage_chart s
    join core.chart_entry e on (e.chart_kind, e.region, e.period) = (s.chart_kind, s.region, s.period)
                           and e.chart_date = s.chart_date + core.period_days(s.period);

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

create or replace function etl.rebuild_chart_runs(p_kind text, p_region text, p_period text,
                                                  p_tracks text[])
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
           count(*) filter (where derived_movement = 're-entry'),
           count(*) filter (where rank = 1),
           count(*) filter (where rank <= 10),
           sum(streams)
    from core.chart_entry
    where chart_kind = p_kind and region = p_region and period = p_period
      and track_id = any (p_tracks)
    group by track_id;
$$;

-- ---------------------------------------------------------------------------------------
-- Songs: Spotify now and then gives a song a new track id ("relinking"). When a
-- charts.spotify.com row's previous_rank says the track was on the previous period's
-- chart, its id is not there, and the entry at that rank has the same normalised title and
-- lead artist, the two ids are one song. Once enriched, ids sharing an ISRC are one song
-- too. A track without a song_member row is a song of its own, named by its id.

create table core.song_member (
    track_id text primary key references core.track on delete cascade,
    song_id  text not null          -- the smallest track id of the song
);
create index song_member_song_idx on core.song_member (song_id);

-- Why two ids were found to be one song.
create table core.track_relink (
    track_id       text not null references core.track on delete cascade,
    other_track_id text not null references core.track on delete cascade,
    evidence       text not null check (evidence in ('previous_rank', 'isrc')),
    chart_kind     text,
    region         text,
    period         text,
    chart_date     date,            -- the chart whose row gave the evidence
    noted_at       timestamptz not null default now(),
    primary key (track_id, other_track_id),
    check (track_id < other_track_id)
);
grant select on core.song_member, core.track_relink to chartpulse_api;

-- The comparison key of a title or an artist: accents, case and punctuation dropped.
create function core.match_key(p_text text) returns text
language sql immutable parallel safe strict as $$
    select pg_catalog.btrim(pg_catalog.regexp_replace(core.search_key(p_text), '[^[:alnum:]]+', ' ', 'g'))
$$;

-- Records that a and b are one song and merges their songs (the smallest id names it).
-- Links are serialised by an advisory lock so two loads never merge songs crosswise;
-- only core.song_member and core.track_relink are written, never core.track, so this
-- cannot wait on a load's track rows.
create function etl.link_tracks(p_a text, p_b text, p_evidence text, p_kind text,
                                p_region text, p_period text, p_date date) returns boolean
language plpgsql as $$
declare
    v_sa text;
    v_sb text;
    v_song text;
begin
    if p_a = p_b then
        return false;
    end if;
    perform pg_advisory_xact_lock(hashtextextended('chartpulse/songs', 0));
    insert into core.track_relink (track_id, other_track_id, evidence, chart_kind, region,
                                   period, chart_date)
    values (least(p_a, p_b), greatest(p_a, p_b), p_evidence, p_kind, p_region, p_period, p_date)
    on conflict do nothing;
    select coalesce((select song_id from core.song_member where track_id = p_a), p_a) into v_sa;
    select coalesce((select song_id from core.song_member where track_id = p_b), p_b) into v_sb;
    if v_sa = v_sb then
        return false;
    end if;
    v_song := least(v_sa, v_sb);
    insert into core.song_member (track_id, song_id)
    select t, v_song from unnest(array[p_a, p_b, v_sa, v_sb]) t
    union
    select track_id, v_song from core.song_member where song_id in (v_sa, v_sb)
    on conflict (track_id) do update set song_id = excluded.song_id;
    return true;
end $$;

-- Finds relinks on the charts raw object p_object_id brought and on the charts one
-- period after them (loaded before or after, so the order of loads does not matter). One
-- chart pair at a time, so every lookup is a primary-key read with the dates known.
create function etl.link_relinked_tracks(p_object_id bigint) returns integer
language plpgsql as $$
declare
    v_pair record;
    v_link record;
    v_linked integer := 0;
begin
    for v_pair in
        select chart_kind, region, period, chart_date as cur,
               chart_date - core.period_days(period) as prev
        from core.chart where object_id = p_object_id
        union
        select chart_kind, region, period, chart_date + core.period_days(period), chart_date
        from core.chart where object_id = p_object_id
        order by 1, 2, 3, 4
    loop
        for v_link in
            select e.track_id as a, p.track_id as b
            from core.chart_entry e
            join core.chart_entry p
              on p.chart_kind = v_pair.chart_kind and p.region = v_pair.region
             and p.period = v_pair.period and p.chart_date = v_pair.prev
             and p.rank = e.src_previous_rank
            join core.track te on te.track_id = e.track_id
            join core.track tp on tp.track_id = p.track_id
            where e.chart_kind = v_pair.chart_kind and e.region = v_pair.region
              and e.period = v_pair.period and e.chart_date = v_pair.cur
              and e.src_previous_rank is not null and p.track_id <> e.track_id
              and not exists (select 1 from core.chart_entry q
                              where q.chart_kind = v_pair.chart_kind and q.region = v_pair.region
                                and q.period = v_pair.period and q.chart_date = v_pair.prev
                                and q.track_id = e.track_id)
              and core.match_key(te.name) = core.match_key(tp.name)
              and core.match_key(te.name) <> ''
              and core.match_key(split_part(e.artist_names, ', ', 1))
                  = core.match_key(split_part(p.artist_names, ', ', 1))
            order by 1, 2
        loop
            if etl.link_tracks(v_link.a, v_link.b, 'previous_rank', v_pair.chart_kind,
                               v_pair.region, v_pair.period, v_pair.cur) then
                v_linked := v_linked + 1;
            end if;
        end loop;
    end loop;
    return v_linked;
end $$;

-- Ids sharing an ISRC are one song (run after enrichment and by `chartpulse refresh`).
create function etl.link_songs_by_isrc() returns integer
language plpgsql as $$
declare
    v_link record;
    v_linked integer := 0;
begin
    for v_link in
        select t.track_id as a, f.first_id as b
        from core.track t
        join (select isrc, min(track_id) as first_id from core.track
              where isrc is not null and isrc <> '' group by isrc having count(*) > 1) f using (isrc)
        where t.track_id <> f.first_id
        order by 1
    loop
        if etl.link_tracks(v_link.a, v_link.b, 'isrc', null, null, null, null) then
            v_linked := v_linked + 1;
        end if;
    end loop;
    return v_linked;
end $$;

-- ---------------------------------------------------------------------------------------
-- The merges, with titles and credits by date and source, and relinks.

create or replace function etl.merge_stage(p_object_id bigint) returns integer
language plpgsql as $$
declare
    v_rows integer;
    v_source smallint;
begin
    -- Temporary tables have no statistics until analysed; without them the planner
    -- joins the stage to chart_entry by scanning all of it.
    analyze pg_temp.stage_entry;
    select count(*) into v_rows from pg_temp.stage_entry;
    select etl.credit_source(format) into v_source from catalog.raw_object where object_id = p_object_id;
    -- Loads of the same series are serialised, in one order so two loads never wait on
    -- each other (the streamed path takes the same locks first).
    perform pg_advisory_xact_lock(hashtextextended(chart_kind || '/' || region || '/' || period, 0))
    from (select distinct chart_kind, region, period from pg_temp.stage_entry
          order by 1, 2, 3) series;
    perform etl.ensure_chart_entry_partitions(min(chart_date), max(chart_date))
    from pg_temp.stage_entry having count(*) > 0;

    perform etl.merge_provisional_credits(
        etl.upsert_tracks(array(
            select distinct on (track_id)
                   row(track_id, track_name, artist_names, label, chart_date, v_source)::etl.staged_track
            from pg_temp.stage_entry
            order by track_id, chart_date desc, line_no)),
        case when v_source = 1 then array(select distinct artist_names from pg_temp.stage_entry)
             else '{}' end);

    create temp table stage_chart on commit drop as
    select chart_kind, region, period, chart_date, count(*)::integer as entries
    from pg_temp.stage_entry group by 1, 2, 3, 4;
    analyze stage_chart;

    perform etl.merge_charts(p_object_id);
    perform etl.after_merge();
    perform etl.link_relinked_tracks(p_object_id);
    perform etl.mark_loaded(p_object_id, v_rows);
    return v_rows;
end $$;

create or replace function etl.merge_streamed(p_object_id bigint, p_rows integer) returns void
language plpgsql as $$
declare
    v_source smallint;
begin
    select etl.credit_source(format) into v_source from catalog.raw_object where object_id = p_object_id;
    perform etl.merge_provisional_credits(
        etl.upsert_tracks(array(
            select row(track_id, name, artist_names, label, chart_date, v_source)::etl.staged_track
            from pg_temp.stream_track)),
        case when v_source = 1 then array(select distinct artist_names from pg_temp.stream_track)
             else '{}' end);

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
    perform etl.link_relinked_tracks(p_object_id);
    perform etl.mark_loaded(p_object_id, p_rows);
end $$;

-- `chartpulse refresh`: the summaries, then songs by ISRC.
create or replace procedure etl.refresh_summaries()
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
    perform etl.link_songs_by_isrc();
end $$;

-- ---------------------------------------------------------------------------------------
-- reporting: the stable surface (docs/bi.md).

-- The movement an entry shows: the source's where its row has chart-run columns (a
-- previous rank of -1, stored as NULL, is a new entry on a first day on chart and a
-- re-entry after), else the derived one.
create function core.shown_movement(p_rank smallint, p_src_previous_rank smallint,
                                    p_src_periods integer, p_derived text)
returns text language sql immutable parallel safe as $$
    select case when p_src_periods is null then p_derived
                when p_src_previous_rank is null then
                    case when p_src_periods > 1 then 're-entry' else 'new' end
                when p_src_previous_rank > p_rank then 'up'
                when p_src_previous_rank < p_rank then 'down'
                else 'same' end
$$;

create index chart_object_idx on core.chart (object_id);

-- Per chart series: the window of loaded charts and how far it runs unbroken from the
-- series' first chart on Spotify (regional and viral daily charts began 2017-01-01, weekly
-- ones with the week ending 2016-12-29; a region that joined later is never unbroken from
-- there, which only makes history_complete below more cautious).
create function core.series_start(p_period text) returns date
language sql immutable parallel safe as $$
    select case p_period when 'weekly' then date '2016-12-29' else date '2017-01-01' end
$$;

create view reporting.series_window as
with charts as (
    select chart_kind, region, period, chart_date,
           lag(chart_date) over (partition by chart_kind, region, period order by chart_date)
               as prev_date
    from core.chart
)
select chart_kind, region, period,
       min(chart_date) as window_from,
       max(chart_date) as window_to,
       count(*) as charts_loaded,
       -- the last date up to which every period from the series' start is loaded (null
       -- when its first chart is not loaded)
       case when min(chart_date) = core.series_start(period) then
           coalesce(min(prev_date) filter (where chart_date - prev_date > core.period_days(period)),
                    max(chart_date))
       end as unbroken_to
from charts
group by chart_kind, region, period;

-- One row per chart position. The chart-run columns are the source's where its row had
-- them (run_source 'source': charts.spotify.com files), else derived from the loaded
-- history ('derived'); the derived ones are always there as derived_*. previous_rank is
-- the rank on the previous period's chart; movement is 'unknown' where that period is not
-- loaded and the row has no source columns. days_on_chart counts days and is set on daily
-- charts; weeks_on_chart on weekly charts; periods_on_chart on both.
create view reporting.chart_entries as
select e.chart_kind, e.region, e.period, e.chart_date, e.rank, e.track_id,
       t.name as track_name, coalesce(e.artist_names, t.artist_names) as artist_names,
       e.streams,
       case when e.src_periods_on_chart is not null then e.src_previous_rank
            else e.derived_previous_rank end as previous_rank,
       core.shown_movement(e.rank, e.src_previous_rank, e.src_periods_on_chart,
                           e.derived_movement) as movement,
       coalesce(e.src_peak_rank, e.derived_peak_rank) as peak_rank,
       case when e.period = 'daily'
            then coalesce(e.src_periods_on_chart, e.derived_periods_on_chart) end as days_on_chart,
       e.streak,
       (case when e.src_periods_on_chart is not null then e.src_previous_rank
             else e.derived_previous_rank end - e.rank)::integer as rank_change,
       case when e.period = 'weekly'
            then coalesce(e.src_periods_on_chart, e.derived_periods_on_chart) end as weeks_on_chart,
       coalesce(e.src_periods_on_chart, e.derived_periods_on_chart) as periods_on_chart,
       case when e.src_periods_on_chart is not null then 'source' else 'derived' end as run_source,
       e.derived_previous_rank, e.derived_movement, e.derived_peak_rank,
       e.derived_periods_on_chart,
       coalesce(s.song_id, e.track_id) as song_id,
       t.artist_names as track_artist_names
from core.chart_entry e
join core.track t using (track_id)
left join core.song_member s using (track_id);

-- Per track and chart series: its run over the loaded charts, with the window those
-- charts cover and whether the track's debut lies inside it (history_complete: the first
-- loaded entry is a source days/weeks_on_chart of 1, or the series is loaded unbroken
-- from its first chart up to that entry). source_periods_on_chart and
-- source_peak_rank are what the source says at the track's latest loaded entry (its whole
-- history on Spotify), where the source says.
create view reporting.track_stats as
select r.chart_kind, r.region, r.period, r.track_id, t.name as track_name, t.artist_names,
       r.first_date as debut_date, r.first_rank as debut_rank,
       r.peak_rank, r.peak_date, r.last_date, r.last_rank,
       case when r.period = 'daily' then r.periods end as days_on_chart,
       case when r.period = 'daily' then r.periods_at_1 end as days_at_1,
       case when r.period = 'daily' then r.periods_top10 end as days_in_top10,
       r.longest_streak, r.streak as last_streak, r.reentries, r.total_streams,
       r.periods as periods_on_chart, r.periods_at_1, r.periods_top10 as periods_in_top10,
       w.window_from, w.window_to,
       coalesce(fe.src_periods_on_chart = 1
                or (fe.src_periods_on_chart is null and r.first_date <= w.unbroken_to), false)
           as history_complete,
       le.src_periods_on_chart as source_periods_on_chart,
       le.src_peak_rank as source_peak_rank,
       coalesce(s.song_id, r.track_id) as song_id
from core.chart_run r
join core.track t using (track_id)
join reporting.series_window w using (chart_kind, region, period)
left join core.song_member s on s.track_id = r.track_id
left join lateral (
    select e.src_periods_on_chart from core.chart_entry e
    where e.track_id = r.track_id and e.region = r.region and e.period = r.period
      and e.chart_date = r.first_date and e.chart_kind = r.chart_kind) fe on true
left join lateral (
    select e.src_periods_on_chart, e.src_peak_rank from core.chart_entry e
    where e.track_id = r.track_id and e.region = r.region and e.period = r.period
      and e.chart_date = r.last_date and e.chart_kind = r.chart_kind) le on true;

-- Artists' credits, resolved: every credited artist (credit_role 'all') and, again, the
-- first-credited artist alone (credit_role 'lead'). artist_id is the stable public id
-- (the Spotify id once enriched).
create view reporting.credits as
select c.track_id, a.public_id as artist_id, a.spotify_id as artist_spotify_id,
       a.name as artist_name, 'all'::text as credit_role, c.position
from core.track_credit c join core.artist a using (artist_id)
union all
select c.track_id, a.public_id, a.spotify_id, a.name, 'lead', c.position
from core.track_credit c join core.artist a using (artist_id)
where c.position = 1;

-- Per artist, chart series and credit rule: totals over every charting track. Counts of
-- chart positions say so (entries, number_one_entries, top10_entries); songs counts songs
-- (relinked ids once).
create view reporting.artist_stats as
select r.chart_kind, r.region, r.period, c.credit_role, c.artist_id, c.artist_spotify_id,
       c.artist_name,
       count(distinct coalesce(s.song_id, r.track_id)) as songs,
       sum(r.periods) as entries,
       sum(r.periods_at_1) as number_one_entries,
       count(distinct coalesce(s.song_id, r.track_id)) filter (where r.periods_at_1 > 0)
           as number_one_songs,
       sum(r.periods_top10) as top10_entries,
       min(r.peak_rank) as best_rank,
       min(r.first_date) as first_date,
       max(r.last_date) as last_date,
       sum(r.total_streams) as total_streams
from core.chart_run r
join reporting.credits c using (track_id)
left join core.song_member s on s.track_id = r.track_id
group by r.chart_kind, r.region, r.period, c.credit_role, c.artist_id, c.artist_spotify_id,
         c.artist_name;

-- Per artist, series, credit rule and month: the grain leaderboards are built from.
-- charts: the charts of the month the artist was on (days on daily series, weeks on
-- weekly ones, and only loaded charts).
create view reporting.artist_months as
select m.chart_kind, m.region, m.period, m.month, c.credit_role, c.artist_id,
       c.artist_spotify_id, c.artist_name,
       sum(m.streams) as streams,
       sum(m.entries) as entries,
       bit_count(bit_or(m.day_mask)::bit(32)) as charts,
       sum(m.number_ones) as number_one_entries,
       count(distinct coalesce(s.song_id, m.track_id)) as songs
from core.track_month m
join reporting.credits c using (track_id)
left join core.song_member s on s.track_id = m.track_id
group by m.chart_kind, m.region, m.period, m.month, c.credit_role, c.artist_id,
         c.artist_spotify_id, c.artist_name;

-- Per chart: its totals, and whether the previous period's chart is loaded (the movement
-- counts compare with it).
create view reporting.daily_totals as
select c.chart_kind, c.region, c.period, c.chart_date, c.entries,
       sum(e.streams) as total_streams,
       count(*) filter (where e.movement = 'new') as new_entries,
       count(*) filter (where e.movement = 're-entry') as reentries,
       count(*) filter (where e.movement = 'up') as moved_up,
       count(*) filter (where e.movement = 'down') as moved_down,
       count(*) filter (where e.movement = 'unknown') as movement_unknown,
       exists (select 1 from core.chart p
               where (p.chart_kind, p.region, p.period) = (c.chart_kind, c.region, c.period)
                 and p.chart_date = c.chart_date - core.period_days(c.period))
           as previous_period_loaded
from core.chart c
join (select chart_kind, region, period, chart_date, streams,
             core.shown_movement(rank, src_previous_rank, src_periods_on_chart,
                                 derived_movement) as movement
      from core.chart_entry) e using (chart_kind, region, period, chart_date)
group by c.chart_kind, c.region, c.period, c.chart_date, c.entries;

-- Chart positions that moved since the previous period's chart, only on charts whose
-- previous period is loaded.
create view reporting.movers as
select e.chart_kind, e.region, e.period, e.chart_date, e.rank, e.previous_rank, e.rank_change,
       e.track_id, e.track_name, e.artist_names, e.streams
from reporting.chart_entries e
where e.previous_rank is not null and e.previous_rank <> e.rank
  and exists (select 1 from core.chart p
              where (p.chart_kind, p.region, p.period) = (e.chart_kind, e.region, e.period)
                and p.chart_date = e.chart_date - core.period_days(e.period));

-- One song per track id: which ids Spotify relinked into one song, and why.
create view reporting.songs as
select t.track_id, coalesce(s.song_id, t.track_id) as song_id, t.name as track_name,
       t.artist_names
from core.track t
left join core.song_member s using (track_id);

create view reporting.track_relinks as
select track_id, other_track_id, evidence, chart_kind, region, period, chart_date
from core.track_relink;

-- Artists ranked over chart_date p_from .. p_to of one series, by streams, entries (chart
-- positions), charts (charts with at least one of the artist's tracks: days on daily
-- series, weeks on weekly ones; 'days' and 'weeks' are accepted for it),
-- number_one_entries (number-one chart positions; 'number_ones' is accepted for it),
-- number_one_songs or songs, crediting every artist of a track
-- (p_role 'all') or its first artist only ('lead'). songs counts songs (relinked ids
-- once). Whole months come from core.track_month; the days of partial months at either
-- end from the fact table.
create function reporting.artist_leaderboard(
    p_region text, p_period text, p_from date, p_to date,
    p_by text default 'streams', p_role text default 'all', p_limit integer default 100,
    p_kind text default 'regional')
returns table (leaderboard_rank bigint, artist_id text, artist_spotify_id text, artist_name text,
               streams numeric, entries bigint, charts bigint, number_one_entries bigint,
               number_one_songs bigint, songs bigint)
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
        select t.track_id, c.artist_id, coalesce(s.song_id, t.track_id) as song_id
        from (select distinct track_id from months) t
        cross join lateral (
            select tc.artist_id from core.track_credit tc
            where tc.track_id = t.track_id and (p_role = 'all' or tc.position = 1)
            offset 0) c
        left join core.song_member s on s.track_id = t.track_id
    ), credited as materialized (
        select c.artist_id, c.song_id, m.track_id, m.month, m.streams, m.entries,
               m.number_ones, m.day_mask
        from months m join credit c using (track_id)
    ), per_artist_month as (
        select artist_id, month, sum(streams) as streams, sum(entries) as entries,
               bit_count(bit_or(day_mask)::bit(32)) as charts, sum(number_ones) as number_ones
        from credited
        group by artist_id, month
    ), per_artist as (
        select artist_id, sum(streams) as streams, sum(entries)::bigint as entries,
               sum(charts)::bigint as charts, sum(number_ones)::bigint as number_ones
        from per_artist_month group by artist_id
    ), songs as (
        select artist_id, count(distinct song_id) as songs,
               count(distinct song_id) filter (where number_ones > 0) as number_one_songs
        from credited group by artist_id
    )
    select row_number() over (order by
               case p_by when 'streams' then coalesce(p.streams, 0)
                         when 'entries' then p.entries
                         when 'charts' then p.charts
                         when 'days' then p.charts
                         when 'weeks' then p.charts
                         when 'number_ones' then p.number_ones
                         when 'number_one_entries' then p.number_ones
                         when 'number_one_songs' then s.number_one_songs
                         when 'songs' then s.songs end desc,
               coalesce(p.streams, 0) desc, a.name, a.public_id),
           a.public_id, a.spotify_id, a.name, p.streams, p.entries, p.charts, p.number_ones,
           s.number_one_songs, s.songs
    from per_artist p
    join core.artist a using (artist_id)
    join songs s using (artist_id)
    order by 1
    limit p_limit
$$;

-- One track's chart positions in one series, oldest first, as reporting.chart_entries
-- shows them.
create function reporting.track_history(
    p_track_id text, p_region text default 'global', p_period text default 'daily',
    p_from date default '-infinity', p_to date default 'infinity', p_kind text default 'regional')
returns table (chart_date date, rank smallint, streams bigint, previous_rank smallint,
               movement text, peak_rank smallint, periods_on_chart integer, streak integer,
               run_source text)
language sql stable security definer set search_path = pg_catalog, core, reporting as $$
    select e.chart_date, e.rank, e.streams, e.previous_rank, e.movement, e.peak_rank,
           e.periods_on_chart, e.streak, e.run_source
    from reporting.chart_entries e
    where e.track_id = p_track_id and e.region = p_region and e.period = p_period
      and e.chart_kind = p_kind and e.chart_date between p_from and p_to
    order by e.chart_date
$$;

revoke all on all functions in schema reporting from public;
grant select on all tables in schema reporting to chartpulse_api, chartpulse_bi;
grant execute on all functions in schema reporting to chartpulse_api, chartpulse_bi;
grant execute on function core.period_days(text), core.series_start(text),
    core.match_key(text), core.shown_movement(smallint, smallint, integer, text) to chartpulse_api, chartpulse_bi;
