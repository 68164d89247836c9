-- The longest chart runs in each series (as far as the loaded history reaches).
select region, period, track_name, artist_names, debut_date, days_on_chart, longest_streak,
       peak_rank, days_at_1
from (select *, row_number() over (partition by chart_kind, region, period
                                   order by days_on_chart desc, peak_rank) as n
      from reporting.track_stats where chart_kind = 'regional') t
where n <= 3
order by region, period, n;
