-- Spotify Web API data: playlist snapshots as their own chart kind (`chartpulse ingest
-- spotify`), and the metadata `chartpulse enrich` fetches for tracks, albums and artists.

-- A playlist snapshot is a chart of kind `playlist`: rank = position in the playlist, no
-- streams, the region given by --region, period daily (one snapshot a day).
alter table core.chart drop constraint chart_chart_kind_check;
alter table core.chart add constraint chart_chart_kind_check
    check (chart_kind in ('regional', 'viral', 'playlist'));
alter table catalog.raw_object drop constraint raw_object_chart_kind_check;
alter table catalog.raw_object add constraint raw_object_chart_kind_check
    check (chart_kind in ('regional', 'viral', 'playlist'));

-- Albums, keyed by Spotify id. A row is created from the album a track object names
-- (name, type, release date, images); enriched_at is set once the full album (label,
-- popularity) has been fetched. Missing fields stay NULL.
create table core.album (
    album_id               text primary key check (album_id ~ '^[0-9A-Za-z]{22}$'),
    name                   text not null default '',
    album_type             text,     -- album | single | compilation, as the API says
    -- The first day of the period the precision names: '2019' with precision year is
    -- stored as 2019-01-01 / 'year'. NULL when the API gave none or an impossible one
    -- (it answers '0000' for some old albums).
    release_date           date,
    release_date_precision text check (release_date_precision in ('year', 'month', 'day')),
    label                  text,
    popularity             smallint check (popularity between 0 and 100),
    total_tracks           integer check (total_tracks >= 0),
    images                 jsonb,    -- [{url, width, height}], largest first, as given
    enriched_at            timestamptz,
    updated_at             timestamptz not null default now(),
    check ((release_date is null) = (release_date_precision is null))
);
create index album_pending_idx on core.album (album_id) where enriched_at is null;
grant select on core.album to chartpulse_api;

-- Track metadata. A track's images are its album's.
alter table core.track
    add column duration_ms integer check (duration_ms >= 0),
    add column explicit    boolean,
    add column isrc        text,
    add column album_id    text references core.album,
    add column popularity  smallint check (popularity between 0 and 100),
    add column enriched_at timestamptz;
create index track_album_idx on core.track (album_id);
create index track_pending_idx on core.track (track_id) where enriched_at is null;

-- Artist metadata, for artists with a Spotify id. genres is NULL when the API did not
-- say, '{}' when it said none.
alter table core.artist
    add column genres      text[],
    add column popularity  smallint check (popularity between 0 and 100),
    add column followers   bigint check (followers >= 0),
    add column images      jsonb,
    add column enriched_at timestamptz;
create index artist_pending_idx on core.artist (spotify_id)
    where spotify_id is not null and enriched_at is null;

-- Ids the Web API does not know (404, or null in a batch answer). Enrichment skips them
-- on later runs instead of asking again every time.
create table etl.enrich_missing (
    kind        text not null check (kind in ('track', 'album', 'artist')),
    spotify_id  text not null,
    http_status integer,
    reason      text not null,
    noted_at    timestamptz not null default now(),
    primary key (kind, spotify_id)
);

-- Replaces a track's credits with the artists of a Web API track object (p_artists: its
-- `artists` array, in credit order). The artists are upserted by Spotify id and become
-- non-provisional; provisional artists (split from a chart's artist line) that no
-- longer credit any track are removed, since the real credits replace them. An array
-- without one usable id leaves the credits as they are.
create function etl.replace_track_credits(p_track_id text, p_artists jsonb) returns void
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

    delete from core.artist a
    where a.artist_id = any (v_old) and a.provisional
      and not exists (select 1 from core.track_credit c where c.artist_id = a.artist_id);
end $$;
