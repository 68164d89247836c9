-- The \copy baseline of bench/load_bench.sh: the table that plain `psql \copy` of the same
-- generated Kaggle files loads into, for comparison with `chartpulse ingest` + `load`.
--
-- Its columns are the files' columns in file order, so COPY needs no transformation at all
-- (region stays a country name, url stays a URL, streams stay "253019.0"), typed as
-- core.chart_entry types them where the text allows: rank smallint, chart_date date,
-- streams numeric (bigint does not accept "253019.0"). Its primary key is core.chart_entry's
-- (chart_kind, region, period, chart_date, rank) with period left out, since the Kaggle
-- chart is always daily. Like core.chart_entry it is a logged table. Unlike it, it is not
-- partitioned and has no foreign keys, no track index, no derived chart-run columns, and
-- nothing validates a row: this is the ceiling a loader can be measured against.
drop schema if exists bench cascade;
create schema bench;

create table bench.copy_entry (
    title      text,
    rank       smallint not null,
    chart_date date not null,
    artist     text,
    url        text not null,
    region     text not null,
    chart      text not null,
    trend      text,
    streams    numeric,
    primary key (chart, region, chart_date, rank)
);

-- What the generator itself wrote for a sample of charts, in the charts.spotify.com format
-- (same seed, same charts), filled by the correctness check after the load.
create table bench.expect_entry (
    rank          smallint not null,
    uri           text not null,
    artist_names  text,
    track_name    text,
    source        text,
    peak_rank     smallint not null,
    previous_rank smallint not null,
    days_on_chart integer not null,
    streams       bigint not null,
    region        text,
    chart_date    date
);
