-- Chart positions where charts.spotify.com's own previous_rank points at a different track
-- id on the previous chart: Spotify follows a song across relinked ids, a history keyed by
-- track id does not. Run as the owner (reads core.*).
select e.region, e.period, count(*) as positions,
       count(distinct e.track_id) as tracks
from core.chart_entry e
join core.chart prev
  on (prev.chart_kind, prev.region, prev.period) = (e.chart_kind, e.region, e.period)
 and prev.chart_date = e.chart_date - case e.period when 'weekly' then 7 else 1 end
join core.chart_entry p
  on (p.chart_kind, p.region, p.period, p.chart_date, p.rank) =
     (prev.chart_kind, prev.region, prev.period, prev.chart_date, e.src_previous_rank)
where p.track_id <> e.track_id
group by 1, 2
order by positions desc;
