-- How much the credit rule matters: artists whose streams on the 2017 global weekly chart
-- differ most between crediting every artist and crediting the lead artist only.
with all_credit as (
    select artist_name, streams from reporting.artist_leaderboard('global', 'weekly', '2017-01-01', '2017-12-31', 'streams', 'all', 1000)
), lead_credit as (
    select artist_name, streams from reporting.artist_leaderboard('global', 'weekly', '2017-01-01', '2017-12-31', 'streams', 'lead', 1000)
)
select a.artist_name, a.streams as all_streams, coalesce(l.streams, 0) as lead_streams,
       round(100.0 * (a.streams - coalesce(l.streams, 0)) / a.streams, 1) as pct_from_features
from all_credit a left join lead_credit l using (artist_name)
order by a.streams - coalesce(l.streams, 0) desc
limit 10;
