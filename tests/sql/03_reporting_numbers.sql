-- Every reporting view and function against numbers computed by hand from a small fixture
-- loaded through the real merge (etl.merge_stage): three global daily charts across a
-- month boundary, four tracks, three artists with shared credits.
--
--   2031-01-30: 1 T1 (A, B) 1000   2 T2 (B) 800    3 T3 (C) 500
--   2031-01-31: 1 T2 (B) 900       2 T1 (A, B) 850 3 T4 (C, A) 400
--   2031-02-01: 1 T4 (C, A) 1200   2 T1 (A, B) 700 3 T3 (C) 300     (T3 re-enters)
begin;
select plan(30);

insert into catalog.raw_object (source, format, object_key, original_name, bytes, sha256)
values ('test', 'charts.spotify.com', 'k', 'fixture.csv', 0, repeat('a', 64));

create temp table stage_entry (
    line_no integer not null, chart_kind text not null, region text not null,
    period text not null, chart_date date not null, rank smallint not null,
    track_id text not null, track_name text not null, artist_names text not null, label text,
    streams bigint, src_peak_rank smallint, src_previous_rank smallint,
    src_periods_on_chart integer) on commit drop;
insert into stage_entry (line_no, chart_kind, region, period, chart_date, rank, track_id,
                         track_name, artist_names, streams)
select row_number() over (), 'regional', 'global', 'daily', d::date, r, t, 'Song ' || right(t, 1), a, s
from (values
    ('2031-01-30', 1, 'T1xxxxxxxxxxxxxxxxxxx1', 'Artist A, Artist B', 1000),
    ('2031-01-30', 2, 'T2xxxxxxxxxxxxxxxxxxx2', 'Artist B', 800),
    ('2031-01-30', 3, 'T3xxxxxxxxxxxxxxxxxxx3', 'Artist C', 500),
    ('2031-01-31', 1, 'T2xxxxxxxxxxxxxxxxxxx2', 'Artist B', 900),
    ('2031-01-31', 2, 'T1xxxxxxxxxxxxxxxxxxx1', 'Artist A, Artist B', 850),
    ('2031-01-31', 3, 'T4xxxxxxxxxxxxxxxxxxx4', 'Artist C, Artist A', 400),
    ('2031-02-01', 1, 'T4xxxxxxxxxxxxxxxxxxx4', 'Artist C, Artist A', 1200),
    ('2031-02-01', 2, 'T1xxxxxxxxxxxxxxxxxxx1', 'Artist A, Artist B', 700),
    ('2031-02-01', 3, 'T3xxxxxxxxxxxxxxxxxxx3', 'Artist C', 300)) v(d, r, t, a, s);

select is(etl.merge_stage((select object_id from catalog.raw_object where object_key = 'k')), 9,
          'the fixture merges');

select is_empty('select * from etl.check_integrity()', 'every entry has its chart and track');

-- chart_entries: the run columns
select results_eq(
    $$select chart_date::text, rank::int, movement, previous_rank::int, peak_rank::int, days_on_chart, streak
      from reporting.chart_entries where track_id = 'T3xxxxxxxxxxxxxxxxxxx3' order by chart_date$$,
    $$values ('2031-01-30', 3, 'unknown', null::int, 3, 1, 1), ('2031-02-01', 3, 're-entry', null, 3, 2, 1)$$,
    'a re-entry has no previous rank, keeps its peak and counts its days; the first chart''s day before is not loaded: unknown');
select results_eq(
    $$select movement, rank_change from reporting.chart_entries
      where chart_date = '2031-02-01' order by rank$$,
    $$values ('up', 2), ('same', 0), ('re-entry', null::int)$$,
    'movement and rank change on 2031-02-01');

-- track_stats
select results_eq(
    $$select debut_date::text, debut_rank::int, peak_rank::int, peak_date::text, days_on_chart,
             days_at_1, days_in_top10, longest_streak, last_streak, reentries, total_streams::bigint,
             window_from::text, window_to::text, history_complete
      from reporting.track_stats where track_id = 'T1xxxxxxxxxxxxxxxxxxx1'$$,
    $$values ('2031-01-30', 1, 1, '2031-01-30', 3, 1, 3, 3, 3, 0, 2550::bigint, '2031-01-30',
              '2031-02-01', false)$$,
    'track_stats of T1, censored: the series is not loaded from its start and the file has no days_on_chart');
select results_eq(
    $$select days_on_chart, longest_streak, last_streak, reentries, total_streams::bigint
      from reporting.track_stats where track_id = 'T3xxxxxxxxxxxxxxxxxxx3'$$,
    $$values (2, 1, 1, 1, 800::bigint)$$,
    'track_stats of T3 (a re-entry)');

-- artist_stats, both credit rules
select results_eq(
    $$select artist_name, songs, entries::bigint, number_one_entries::bigint, total_streams::bigint
      from reporting.artist_stats where credit_role = 'all' and region = 'global' order by artist_name$$,
    $$values ('Artist A', 2::bigint, 5::bigint, 2::bigint, 4150::bigint),
             ('Artist B', 2, 5, 2, 4250), ('Artist C', 2, 4, 1, 2400)$$,
    'artist_stats crediting every artist');
select results_eq(
    $$select artist_name, songs, entries::bigint, total_streams::bigint
      from reporting.artist_stats where credit_role = 'lead' and region = 'global' order by artist_name$$,
    $$values ('Artist A', 1::bigint, 3::bigint, 2550::bigint), ('Artist B', 1, 2, 1700),
             ('Artist C', 2, 4, 2400)$$,
    'artist_stats crediting the lead artist only');

-- daily_totals
select results_eq(
    $$select chart_date::text, entries, total_streams::bigint, new_entries, reentries, moved_up, moved_down
      from reporting.daily_totals where region = 'global' and chart_date >= '2031-01-30' order by chart_date$$,
    $$values ('2031-01-30', 3, 2300::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint),
             ('2031-01-31', 3, 2150, 1, 0, 1, 1),
             ('2031-02-01', 3, 2200, 0, 1, 1, 0)$$,
    'daily_totals');

-- movers
select results_eq(
    $$select chart_date::text, track_id, rank_change from reporting.movers
      where region = 'global' and chart_date >= '2031-01-30' order by chart_date, rank$$,
    $$values ('2031-01-31', 'T2xxxxxxxxxxxxxxxxxxx2', 1), ('2031-01-31', 'T1xxxxxxxxxxxxxxxxxxx1', -1),
             ('2031-02-01', 'T4xxxxxxxxxxxxxxxxxxx4', 2)$$,
    'movers: gains and losses, not unchanged or new positions');

-- artist_months: the January grain
select results_eq(
    $$select artist_name, streams::bigint, entries::bigint, charts, number_one_entries::bigint
      from reporting.artist_months where credit_role = 'all' and month = '2031-01-01' order by artist_name$$,
    $$values ('Artist A', 2250::bigint, 3::bigint, 2::bigint, 1::bigint), ('Artist B', 3550, 4, 2, 2),
             ('Artist C', 900, 2, 2, 0)$$,
    'artist_months for January (charts are distinct dates, not entries)');

-- the leaderboard: a range over a partial January and a partial February ...
select results_eq(
    $$select leaderboard_rank, artist_name, streams::bigint, entries, charts
      from reporting.artist_leaderboard('global', 'daily', '2031-01-31', '2031-02-01')$$,
    $$values (1::bigint, 'Artist A', 3150::bigint, 4::bigint, 2::bigint), (2, 'Artist B', 2450, 3, 2),
             (3, 'Artist C', 1900, 3, 2)$$,
    'leaderboard by streams over two partial months');
select results_eq(
    $$select artist_name from reporting.artist_leaderboard('global', 'daily', '2031-01-31', '2031-02-01', 'streams', 'lead')$$,
    $$values ('Artist C'), ('Artist A'), ('Artist B')$$,
    'leaderboard crediting lead artists: C leads T4 and T3');
-- ... a whole month from the summary ...
select results_eq(
    $$select artist_name, streams::bigint, number_one_entries from reporting.artist_leaderboard('global', 'daily', '2031-01-01', '2031-01-31')$$,
    $$values ('Artist B', 3550::bigint, 2::bigint), ('Artist A', 2250, 1), ('Artist C', 900, 0)$$,
    'leaderboard over a whole month');
-- ... and the other rankings and the limit
select results_eq(
    $$select artist_name from reporting.artist_leaderboard('global', 'daily', '2031-01-01', '2031-02-28', 'number_ones', 'all', 2)$$,
    $$values ('Artist B'), ('Artist A')$$,
    'leaderboard by number ones (2 each), ties broken by streams (4250 > 4150), limited');
select results_eq(
    $$select artist_name, entries from reporting.artist_leaderboard('global', 'daily', '2031-01-01', '2031-02-28', 'entries')$$,
    $$values ('Artist B', 5::bigint), ('Artist A', 5::bigint), ('Artist C', 4::bigint)$$,
    'leaderboard by entries');
select is_empty(
    $$select * from reporting.artist_leaderboard('global', 'daily', '2031-03-01', '2031-03-31')$$,
    'no charts, no leaderboard');

-- track_history
select results_eq(
    $$select chart_date::text, rank::int, streams::bigint, movement from reporting.track_history('T1xxxxxxxxxxxxxxxxxxx1')$$,
    $$values ('2031-01-30', 1, 1000::bigint, 'unknown'), ('2031-01-31', 2, 850, 'down'), ('2031-02-01', 2, 700, 'same')$$,
    'track_history');
select is_empty($$select * from reporting.track_history('T1xxxxxxxxxxxxxxxxxxx1', 'us')$$,
                'no history in another region');

-- the summaries agree with the facts
select is((select sum(entries)::int from core.track_month where month >= '2031-01-01'), 9,
          'track_month covers every entry');
select is((select count(*)::int from core.chart_run where region = 'global' and first_date >= '2031-01-30'), 4,
          'one chart_run row per track');
select is((select periods from core.chart_run where track_id = 'T4xxxxxxxxxxxxxxxxxxx4'), 2, 'T4 charted twice');
select is((select string_agg(a.name || ':' || c.role, ',' order by c.position) from core.track_credit c
           join core.artist a using (artist_id) where c.track_id = 'T4xxxxxxxxxxxxxxxxxxx4'),
          'Artist C:lead,Artist A:featured', 'provisional credits, lead first');

-- a rebuild from the facts gives the same summaries
create temp table before_runs as select * from core.chart_run;
create temp table before_months as select * from core.track_month;
call etl.refresh_summaries();
select is_empty('select * from before_runs except select * from core.chart_run', 'refresh keeps chart_run');
select is_empty('select * from core.chart_run except select * from before_runs', 'refresh adds no chart_run');
select is_empty('select * from before_months except select * from core.track_month', 'refresh keeps track_month');
select is_empty('select * from core.track_month except select * from before_months', 'refresh adds no track_month');

-- ids sharing an ISRC (after enrichment) are one song, named by the smallest id, and the
-- song counts once on the leaderboard: Artist C's T3 and T4 become one song
update core.track set isrc = 'USX9P3100077'
where track_id in ('T3xxxxxxxxxxxxxxxxxxx3', 'T4xxxxxxxxxxxxxxxxxxx4');
select is(etl.link_songs_by_isrc(), 1, 'one link made from a shared ISRC');
select results_eq(
    $$select track_id, song_id, (select evidence from core.track_relink) from reporting.songs
      where track_id in ('T3xxxxxxxxxxxxxxxxxxx3', 'T4xxxxxxxxxxxxxxxxxxx4') order by 1$$,
    $$values ('T3xxxxxxxxxxxxxxxxxxx3'::text, 'T3xxxxxxxxxxxxxxxxxxx3'::text, 'isrc'::text),
             ('T4xxxxxxxxxxxxxxxxxxx4', 'T3xxxxxxxxxxxxxxxxxxx3', 'isrc')$$,
    'both ids are the song T3');
select results_eq(
    $$select artist_name, songs from reporting.artist_leaderboard('global', 'daily', '2031-01-01', '2031-02-28')
      where artist_name = 'Artist C'$$,
    $$values ('Artist C', 1::bigint)$$,
    'Artist C charted one song under two ids');

select * from finish();
rollback;
