-- Concentration: the share of a chart's streams that its top 10 takes, by series and year.
select e.region, e.period, extract(year from e.chart_date)::int as year,
       round(100.0 * sum(e.streams) filter (where e.rank <= 10) / sum(e.streams), 1) as top10_share_pct,
       count(distinct e.chart_date) as charts
from reporting.chart_entries e
where e.chart_kind = 'regional' and e.streams is not null
group by 1, 2, 3
having count(distinct e.chart_date) >= 4
order by 1, 2, 3;
