-- Stored forecasts (docs/methodology.md): `chartpulse refresh` runs SPEC 4b's backtest of
-- the pooled model on each regional series and forecasts every track of the series' latest
-- chart, h = 1..7 charts (daily) or 1..4 (weekly) ahead, with 80% intervals from the
-- model's backtest errors at that horizon. Each refresh replaces a series' rows.

-- The model's backtest error per horizon on the series, as `chartpulse model backtest`
-- prints it for that model.
create table core.forecast_error (
    chart_kind       text not null,
    region           text not null,
    period           text not null,
    model            text not null,
    horizon          integer not null check (horizon between 1 and 7),
    rank_mae         double precision,
    streams_mape     double precision,
    scored           integer not null check (scored >= 0),
    rank_coverage    double precision, -- percent of actual ranks inside the interval
    streams_coverage double precision,
    origins_from     date not null,     -- the first and last chart of the window backtested
    origins_to       date not null,
    stride           integer not null check (stride >= 1),
    computed_at      timestamptz not null default now(),
    primary key (chart_kind, region, period, horizon)
);

create table core.track_forecast (
    chart_kind   text not null,
    region       text not null,
    period       text not null,
    track_id     text not null references core.track,
    origin_date  date not null, -- the latest chart: the forecast is for origin + h periods
    horizon      integer not null check (horizon between 1 and 7),
    model        text not null,
    rank         double precision not null,
    rank_low     double precision not null,
    rank_high    double precision not null,
    streams      double precision not null,
    streams_low  double precision not null,
    streams_high double precision not null,
    primary key (chart_kind, region, period, track_id, horizon),
    foreign key (chart_kind, region, period, horizon)
        references core.forecast_error on delete cascade
);

grant select on core.forecast_error, core.track_forecast to chartpulse_api;
