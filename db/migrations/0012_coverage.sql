-- Chart coverage with its gaps (SPEC §4a "Coverage shows gaps"): per series, the charts
-- expected between its first and last chart and the ranges of periods with none loaded.
-- (Versions 0010 and 0011 are taken by other changes.)
--
-- A series' periods are counted from its first chart: days on a daily series, 7-day steps
-- on a weekly one. A weekly chart dated off that grid counts for the week it falls in
-- (charts.spotify.com and the legacy exports both date a week by its Thursday, so in
-- practice only a chart given its date by hand, `--date`, can be off it).
--
-- Both views read core.chart alone, series_gaps in its primary key's order (one window,
-- no sort, no distinct): over 37k charts (75 regions, daily and weekly) each view answers
-- in 50-80 ms on a 2-core test machine.

-- One row per range of consecutive missing periods: gap_from and gap_to are the dates the
-- first and last missing chart would have had.
create view reporting.series_gaps as
with chart_step as (
    -- in core.chart's key order, so the window needs no sort: the first chart of the
    -- series (first_value) and the chart before this one (lag)
    select c.chart_kind, c.region, c.period, c.chart_date,
           case c.period when 'weekly' then 7 else 1 end as step,
           first_value(c.chart_date) over series as first_date,
           lag(c.chart_date) over series as previous_date
    from core.chart c
    window series as (partition by c.chart_kind, c.region, c.period order by c.chart_date)
), period_step as (
    select chart_kind, region, period, step, first_date,
           (previous_date - first_date) / step as previous_no,
           (chart_date - first_date) / step as period_no
    from chart_step
    where previous_date is not null
)
select chart_kind, region, period,
       first_date + (previous_no + 1) * step as gap_from,
       first_date + (period_no - 1) * step as gap_to,
       period_no - previous_no - 1 as charts_missing
from period_step
where period_no - previous_no > 1;

comment on view reporting.series_gaps is
    'One row per range of missing charts inside a series (chart_kind, region, period): gap_from .. gap_to are the dates of the first and last missing chart (weekly: 7 days apart), charts_missing how many charts the range lacks.';

-- One row per series: its first and last chart, the charts loaded, the charts its periods
-- from first to last call for, how many of those have no chart, and in how many ranges
-- (the rows of series_gaps). charts + charts_missing = charts_expected, except where two
-- charts of a weekly series fall in one week: each extra chart adds one to the left side.
create view reporting.series_coverage as
with gap_totals as (
    select chart_kind, region, period, sum(charts_missing)::bigint as charts_missing,
           count(*) as gaps
    from reporting.series_gaps
    group by chart_kind, region, period
), loaded as (
    select c.chart_kind, c.region, c.period, min(c.chart_date) as first_date,
           max(c.chart_date) as last_date, count(*) as charts
    from core.chart c
    group by c.chart_kind, c.region, c.period
)
select l.chart_kind, l.region, l.period, l.first_date, l.last_date, l.charts,
       ((l.last_date - l.first_date) / case l.period when 'weekly' then 7 else 1 end + 1)::bigint
           as charts_expected,
       coalesce(g.charts_missing, 0) as charts_missing,
       coalesce(g.gaps, 0) as gaps
from loaded l
left join gap_totals g using (chart_kind, region, period);

comment on view reporting.series_coverage is
    'One row per series (chart_kind, region, period): first_date, last_date, charts loaded, charts_expected (days or weeks from first_date to last_date inclusive), charts_missing, and gaps (ranges of missing charts, listed in series_gaps).';

grant select on reporting.series_gaps, reporting.series_coverage to chartpulse_api, chartpulse_bi;
