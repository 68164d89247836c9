-- Chart survival and trend analytics (docs/methodology.md, docs/bi.md).

-- Per track and chart series: its spells, the maximal runs of consecutive charts it is
-- on. The loaded charts fall into segments, broken wherever a period is not loaded; a spell
-- never bridges a break, since whether the track was on the missing charts is unknown.
-- spell_no 1 is the track's first spell in the loaded window; later ones are re-entries.
-- left_truncated: the spell starts on a segment's first chart, so it may have begun
-- earlier and its length is unknown. censored: it ends on a segment's last chart, so
-- whether it went on is unknown; ongoing: that chart is the series' latest.
-- debut_band: the band of its first rank.
create view reporting.chart_spells as
with loaded as (
    select chart_kind, region, period, chart_date,
           row_number() over w as chart_no,
           case when chart_date - lag(chart_date) over w <= core.period_days(period) then 0
                else 1 end as breaks,
           max(chart_date) over (partition by chart_kind, region, period) as window_to
    from core.chart
    window w as (partition by chart_kind, region, period order by chart_date)
),
numbered as (
    select *, sum(breaks) over (partition by chart_kind, region, period order by chart_date)
                  as segment
    from loaded
),
charts as (
    select *, min(chart_date) over s as segment_from, max(chart_date) over s as segment_to
    from numbered
    window s as (partition by chart_kind, region, period, segment)
),
entries as (
    select e.chart_kind, e.region, e.period, e.track_id, e.chart_date, min(e.rank) as rank,
           c.chart_no, c.segment, c.segment_from, c.segment_to, c.window_to
    from core.chart_entry e join charts c using (chart_kind, region, period, chart_date)
    group by 1, 2, 3, 4, 5, c.chart_no, c.segment, c.segment_from, c.segment_to, c.window_to
),
islands as (
    select *, chart_no - row_number() over (partition by chart_kind, region, period, track_id
                                            order by chart_date) as island
    from entries
),
spells as (
    select chart_kind, region, period, track_id,
           min(chart_date) as start_date, max(chart_date) as end_date,
           (array_agg(rank order by chart_date))[1] as start_rank,
           min(rank) as best_rank, count(*)::integer as charts,
           min(chart_date) = min(segment_from) as left_truncated,
           max(chart_date) = max(segment_to) as censored,
           max(chart_date) = max(window_to) as ongoing
    from islands
    group by chart_kind, region, period, track_id, segment, island
)
select chart_kind, region, period, track_id,
       row_number() over (partition by chart_kind, region, period, track_id
                          order by start_date)::integer as spell_no,
       start_date, end_date, start_rank, best_rank, charts, left_truncated, censored, ongoing,
       case when start_rank <= 10 then '1-10' when start_rank <= 50 then '11-50'
            when start_rank <= 200 then '51-200' end as debut_band
from spells;

-- Kaplan-Meier curves of the debut spell's length, per series and debut band, written by
-- `chartpulse refresh` (pipeline/survival_refresh.c, analytics/survival.c). One row per
-- time with an event or a censoring; survival = P(run lasts more than `charts` charts).
create table core.survival_curve (
    chart_kind text not null,
    region     text not null,
    period     text not null,
    debut_band text not null check (debut_band in ('1-10', '11-50', '51-200')),
    charts     integer not null check (charts >= 0),
    at_risk    integer not null check (at_risk >= 1),
    events     integer not null check (events >= 0),
    censored   integer not null check (censored >= 0),
    survival   double precision not null check (survival between 0 and 1),
    primary key (chart_kind, region, period, debut_band, charts)
);

-- Per track on a series' latest chart in its debut spell: the expected number of further
-- charts from its band's curve, given the charts it has been on so far.
create table core.survival_remaining (
    chart_kind  text not null,
    region      text not null,
    period      text not null,
    track_id    text not null,
    debut_band  text not null,
    charts_so_far integer not null check (charts_so_far >= 1),
    expected_remaining double precision check (expected_remaining >= 0),
    restricted  boolean not null,   -- the curve stays above 0: a mean restricted to its end
    primary key (chart_kind, region, period, track_id)
);

create view reporting.survival_curves as
select chart_kind, region, period, debut_band, charts, at_risk, events, censored, survival
from core.survival_curve;

create view reporting.survival_remaining as
select r.chart_kind, r.region, r.period, r.track_id, t.name as track_name, t.artist_names,
       r.debut_band, r.charts_so_far, r.expected_remaining, r.restricted
from core.survival_remaining r join core.track t using (track_id);

-- Per track and series, over its first spell when the spell's start is inside the window:
-- charts from debut to its first chart at its best rank (0 = peaked on debut), and after
-- that peak the decay of streams: the least-squares slope of ln(streams) per chart over
-- the spell's charts from the peak on (at least 3 with streams), as the fraction lost per
-- chart, 1 - exp(slope).
create view reporting.track_trends as
with first_spell as (
    select * from reporting.chart_spells where spell_no = 1 and not left_truncated
),
charts as (
    select chart_kind, region, period, chart_date,
           row_number() over (partition by chart_kind, region, period order by chart_date)
               as chart_no
    from core.chart
),
points as (
    select s.chart_kind, s.region, s.period, s.track_id, e.chart_date, e.rank, e.streams,
           c.chart_no
    from first_spell s
    join core.chart_entry e
      on (e.chart_kind, e.region, e.period, e.track_id) = (s.chart_kind, s.region, s.period,
                                                            s.track_id)
     and e.chart_date between s.start_date and s.end_date
    join charts c
      on (c.chart_kind, c.region, c.period, c.chart_date) = (e.chart_kind, e.region, e.period,
                                                            e.chart_date)
),
peaks as (
    select distinct on (chart_kind, region, period, track_id)
           chart_kind, region, period, track_id, chart_date as peak_date, chart_no as peak_no
    from points
    order by chart_kind, region, period, track_id, rank, chart_date
),
starts as (
    select chart_kind, region, period, track_id, min(chart_no) as start_no
    from points group by 1, 2, 3, 4
),
decay as (
    select p.chart_kind, p.region, p.period, p.track_id,
           regr_slope(ln(p.streams), p.chart_no) as slope, count(*) as points
    from points p join peaks k using (chart_kind, region, period, track_id)
    where p.chart_no >= k.peak_no and p.streams > 0
    group by 1, 2, 3, 4
)
select s.chart_kind, s.region, s.period, s.track_id, s.start_date as debut_date,
       s.start_rank as debut_rank, s.debut_band, s.best_rank as peak_rank, k.peak_date,
       (k.peak_no - st.start_no)::integer as charts_to_peak, s.charts as spell_charts,
       s.ongoing,
       case when d.points >= 3 then 1 - exp(d.slope) end as decay_per_chart,
       coalesce(d.points, 0)::integer as decay_points
from first_spell s
join peaks k using (chart_kind, region, period, track_id)
join starts st using (chart_kind, region, period, track_id)
left join decay d using (chart_kind, region, period, track_id);

-- Share of a series' chart streams by artist, under both credit rules (reporting.credits:
-- 'lead' credits the first artist only, 'all' every credited artist, so 'all' shares of a
-- series add up to more than 1 when tracks have several artists).
create view reporting.artist_stream_share as
with totals as (
    select chart_kind, region, period, sum(streams) as series_streams
    from core.chart_entry where streams is not null group by 1, 2, 3
)
select e.chart_kind, e.region, e.period, cr.credit_role, cr.artist_id, cr.artist_name,
       sum(e.streams) as streams,
       sum(e.streams)::double precision / t.series_streams as share
from core.chart_entry e
join reporting.credits cr using (track_id)
join totals t using (chart_kind, region, period)
where e.streams is not null
group by e.chart_kind, e.region, e.period, cr.credit_role, cr.artist_id, cr.artist_name,
         t.series_streams;

-- Per chart: how many of its entries are debuts (the track's first loaded entry in the
-- series), and their share. The series' first loaded chart has no earlier one to compare
-- with, so its new_entries is null.
create view reporting.new_entries as
with firsts as (
    select chart_kind, region, period, track_id, min(chart_date) as first_date
    from core.chart_entry group by 1, 2, 3, 4
),
window_from as (
    select chart_kind, region, period, min(chart_date) as window_from
    from core.chart group by 1, 2, 3
)
select c.chart_kind, c.region, c.period, c.chart_date, c.entries,
       case when c.chart_date > w.window_from then
           (select count(*) from firsts f
            where (f.chart_kind, f.region, f.period, f.first_date) =
                  (c.chart_kind, c.region, c.period, c.chart_date))::integer end as new_entries,
       case when c.chart_date > w.window_from and c.entries > 0 then
           (select count(*) from firsts f
            where (f.chart_kind, f.region, f.period, f.first_date) =
                  (c.chart_kind, c.region, c.period, c.chart_date))::double precision
           / c.entries end as new_share
from core.chart c join window_from w using (chart_kind, region, period);

grant select on core.survival_curve, core.survival_remaining to chartpulse_api;
grant select on reporting.chart_spells, reporting.survival_curves, reporting.survival_remaining,
                reporting.track_trends, reporting.artist_stream_share, reporting.new_entries
    to chartpulse_api, chartpulse_bi;
