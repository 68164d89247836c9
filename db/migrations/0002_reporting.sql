-- The reporting schema: stable views that BI tools and the API read.

-- One row per chart position, with the chart-run columns chartpulse computes.
-- days_on_chart counts chart periods: days on daily charts, weeks on weekly charts.
create view reporting.chart_entries as
select e.chart_kind, e.region, e.period, e.chart_date, e.rank, e.track_id,
       t.name as track_name, t.artist_names, e.streams, e.previous_rank, e.movement,
       e.peak_rank, e.periods_on_chart as days_on_chart, e.streak
from core.chart_entry e
join core.track t using (track_id);

comment on view reporting.chart_entries is
    'One row per chart position: chart_kind, region, period, chart_date (a weekly chart''s last day), rank, track and chart-run columns computed from the loaded history.';

grant select on reporting.chart_entries to chartpulse_api, chartpulse_bi;
