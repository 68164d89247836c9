-- How fast charts turn over: new entries and re-entries per chart, by series and year.
select chart_kind, region, period, extract(year from chart_date)::int as year,
       count(*) as charts,
       round(avg(new_entries), 1) as new_per_chart,
       round(avg(reentries), 1) as reentries_per_chart
from reporting.daily_totals
group by 1, 2, 3, 4
having count(*) >= 4
order by 1, 2, 3, 4;
