-- Core schema: regions, tracks, artists, credits, charts and their entries; the raw-zone
-- catalog and ETL rejects; the API and BI roles. Applied once, in one transaction.

create schema core;
create schema catalog;
create schema etl;
create schema reporting;

-- Regions that have Spotify charts. `global` plus ISO 3166-1 alpha-2 codes, lower case.
create table core.region (
    region_code text primary key check (region_code ~ '^([a-z]{2}|global)$'),
    name        text not null unique
);

insert into core.region (region_code, name) values
 ('global','Global'),('ae','United Arab Emirates'),('ar','Argentina'),('at','Austria'),
 ('au','Australia'),('be','Belgium'),('bg','Bulgaria'),('bo','Bolivia'),('br','Brazil'),
 ('by','Belarus'),('ca','Canada'),('ch','Switzerland'),('cl','Chile'),('co','Colombia'),
 ('cr','Costa Rica'),('cy','Cyprus'),('cz','Czech Republic'),('de','Germany'),('dk','Denmark'),
 ('do','Dominican Republic'),('ec','Ecuador'),('ee','Estonia'),('eg','Egypt'),('es','Spain'),
 ('fi','Finland'),('fr','France'),('gb','United Kingdom'),('gr','Greece'),('gt','Guatemala'),
 ('hk','Hong Kong'),('hn','Honduras'),('hu','Hungary'),('id','Indonesia'),('ie','Ireland'),
 ('il','Israel'),('in','India'),('is','Iceland'),('it','Italy'),('jp','Japan'),
 ('kr','South Korea'),('kz','Kazakhstan'),('lt','Lithuania'),('lu','Luxembourg'),
 ('lv','Latvia'),('ma','Morocco'),('mx','Mexico'),('my','Malaysia'),('ng','Nigeria'),
 ('ni','Nicaragua'),('nl','Netherlands'),('no','Norway'),('nz','New Zealand'),('pa','Panama'),
 ('pe','Peru'),('ph','Philippines'),('pk','Pakistan'),('pl','Poland'),('pt','Portugal'),
 ('py','Paraguay'),('ro','Romania'),('ru','Russia'),('sa','Saudi Arabia'),('se','Sweden'),
 ('sg','Singapore'),('sk','Slovakia'),('sv','El Salvador'),('th','Thailand'),('tr','Turkey'),
 ('tw','Taiwan'),('ua','Ukraine'),('us','United States'),('uy','Uruguay'),('ve','Venezuela'),
 ('vn','Vietnam'),('za','South Africa');

-- Tracks are keyed by their Spotify id, never by name. Names drift between downloads of
-- the same chart; the newest load wins.
create table core.track (
    track_id     text primary key check (track_id ~ '^[0-9A-Za-z]{22}$'),
    name         text not null default '',
    artist_names text not null default '', -- the credit line as chart files print it
    label        text,
    first_seen_at timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

-- Artists with a Spotify id come from enrichment. Artists split from a chart file's
-- artist_names have no id yet and are provisional, unique by name.
create table core.artist (
    artist_id   bigint generated always as identity primary key,
    spotify_id  text unique check (spotify_id ~ '^[0-9A-Za-z]{22}$'),
    name        text not null,
    provisional boolean not null default true,
    updated_at  timestamptz not null default now()
);
create unique index artist_provisional_name_key on core.artist (name) where spotify_id is null;

create table core.track_credit (
    track_id  text not null references core.track on delete cascade,
    position  smallint not null check (position >= 1),
    artist_id bigint not null references core.artist,
    role      text not null check (role in ('lead', 'featured')),
    primary key (track_id, position),
    check ((position = 1) = (role = 'lead'))
);
create index track_credit_artist_idx on core.track_credit (artist_id);

-- Raw zone catalog: one row per object landed unchanged in the raw zone.
create table catalog.raw_object (
    object_id     bigint generated always as identity primary key,
    source        text not null,          -- e.g. charts.spotify.com, spotifycharts.com, kaggle
    format        text not null,          -- reader that understands it
    object_key    text not null unique,   -- key inside CHARTPULSE_RAW_URI
    original_name text not null,
    chart_kind    text check (chart_kind in ('regional', 'viral')),
    region        text,
    period        text check (period in ('daily', 'weekly')),
    chart_date    date,                   -- null for files that span many dates
    bytes         bigint not null check (bytes >= 0),
    sha256        text not null unique check (sha256 ~ '^[0-9a-f]{64}$'),
    ingested_at   timestamptz not null default now(),
    loaded_at     timestamptz,
    rows_loaded   integer,
    rows_rejected integer,
    load_error    text
);
create index raw_object_pending_idx on catalog.raw_object (object_id) where loaded_at is null;

-- One row per chart published (a region's chart for one period and date).
create table core.chart (
    chart_kind text not null check (chart_kind in ('regional', 'viral')),
    region     text not null references core.region,
    period     text not null check (period in ('daily', 'weekly')),
    chart_date date not null,
    entries    integer not null check (entries >= 0),
    object_id  bigint references catalog.raw_object,
    loaded_at  timestamptz not null default now(),
    primary key (chart_kind, region, period, chart_date)
);

-- One row per chart position: the fact table. previous_rank .. streak are computed by
-- chartpulse from the loaded history (see 0003_load.sql); src_* keep what the file itself
-- claimed. Partitioned by year of chart_date (etl.ensure_chart_entry_partitions creates
-- partitions as charts arrive), so date-range queries and maintenance touch only the
-- years they need.
--
-- Its references to core.track and core.chart are not declared as foreign keys: checking
-- them row by row took 60% of the load time at scale (bench/README.md), and the only
-- writer, etl.merge_stage, inserts the parent rows from the same stage in the same
-- transaction. etl.check_integrity() verifies both references; the tests run it.
create table core.chart_entry (
    chart_kind  text not null,
    region      text not null,
    period      text not null,
    chart_date  date not null,
    rank        smallint not null check (rank between 1 and 1000),
    track_id    text not null,
    streams     bigint check (streams >= 0),
    previous_rank    smallint check (previous_rank between 1 and 1000),
    movement         text check (movement in ('up', 'down', 'same', 'new', 're-entry')),
    peak_rank        smallint check (peak_rank between 1 and rank),
    periods_on_chart integer check (periods_on_chart >= 1),
    streak           integer check (streak between 1 and periods_on_chart),
    src_peak_rank        smallint,
    src_previous_rank    smallint,
    src_periods_on_chart integer,
    primary key (chart_kind, region, period, chart_date, rank),
    check ((movement in ('new', 're-entry')) = (previous_rank is null) or movement is null)
) partition by range (chart_date);
-- A track's history in a series, in date order: track pages, chart runs, summaries.
create index chart_entry_track_idx on core.chart_entry (track_id, region, period, chart_date);

-- Creates the yearly partitions of core.chart_entry that dates from p_from to p_to need.
-- Creating a partition locks the parent, so the loader calls this in a short transaction
-- of its own before merging an object, never inside the merge: a partition created inside
-- one load's transaction would deadlock with a concurrent load's row locks. Two loads
-- creating the same partition at once is harmless: the second finds it made.
create function etl.ensure_chart_entry_partitions(p_from date, p_to date) returns void
language plpgsql as $$
declare
    v_year integer;
    v_name text;
begin
    for v_year in extract(year from p_from)::integer .. extract(year from p_to)::integer loop
        v_name := 'chart_entry_y' || v_year;
        if to_regclass('core.' || v_name) is null then
            begin
                execute format('create table core.%I partition of core.chart_entry'
                               ' for values from (%L) to (%L)',
                               v_name, make_date(v_year, 1, 1), make_date(v_year + 1, 1, 1));
            exception when duplicate_table then
                null; -- a concurrent load created it first
            end;
        end if;
    end loop;
end $$;

-- Rows that failed validation, with where they came from and why.
create table etl.reject (
    object_id bigint not null references catalog.raw_object on delete cascade,
    line_no   integer not null,
    raw_text  text not null,
    reason    text not null,
    primary key (object_id, line_no)
);

-- Recomputes the derived chart-run columns of one chart series (kind, region, period) for
-- the given tracks, from from_date on. A track's previous rank is its rank on the
-- previous chart of the series; it is new if it never charted in the series before and a
-- re-entry if it did but not on the previous chart.
create function etl.recompute_chart_runs(p_kind text, p_region text, p_period text,
                                         p_from date, p_tracks text[])
returns integer language sql as $$
    with charts as (
        select chart_date, row_number() over (order by chart_date) as seq
        from core.chart
        where chart_kind = p_kind and region = p_region and period = p_period
    ), entries as (
        select e.chart_date, e.rank, e.track_id, c.seq
        from core.chart_entry e join charts c using (chart_date)
        where e.chart_kind = p_kind and e.region = p_region and e.period = p_period
          and e.track_id = any (p_tracks)
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

-- Roles. chartpulse_api is the server's read-only role; chartpulse_bi is for BI tools and
-- reads the reporting schema only. Roles are cluster-wide, so create them only once.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'chartpulse_api') then
        create role chartpulse_api login;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'chartpulse_bi') then
        create role chartpulse_bi login;
    end if;
end $$;

alter role chartpulse_api set default_transaction_read_only = on;
alter role chartpulse_api set jit = off;
alter role chartpulse_api set statement_timeout = '10s';
alter role chartpulse_bi set default_transaction_read_only = on;
alter role chartpulse_bi set statement_timeout = '60s';

revoke all on schema core, catalog, etl from public;
grant usage on schema core, catalog, reporting to chartpulse_api;
grant select on all tables in schema core, catalog, reporting to chartpulse_api;
grant usage on schema reporting to chartpulse_bi;
grant select on public.schema_migrations to chartpulse_api;
