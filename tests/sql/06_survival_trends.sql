-- Chart spells and the trend views (0017_survival_trends.sql) against numbers worked out by
-- hand from a fixture merged through etl.merge_stage: global daily charts of 2031-03-01 to
-- 03-04 and 03-06 (03-05 not loaded, so two segments), rank streams per track:
--
--          03-01     03-02      03-03      03-04      03-06    credits
--   T1     1 1000    1 800      2 400      .          .        A, B
--   T2     .         5 100      1 1000     3 500      2 600    B
--   T3     .         20 800     4 400      5 200      .        C
--   T4     .         2 900      3 450      4 225      .        A
--   T5     .         60 50      .          .          .        C
--   T6     .         .          12 100     .          .        D
--   T7     .         8 300      9 200      .          .        B, C
begin;
select plan(10);

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
select row_number() over (), 'regional', 'global', 'daily', d::date, r,
       t || repeat('x', 19) || right(t, 1), 'Song ' || t, a, s
from (values
    ('2031-03-01', 1, 'T1', 'Artist A, Artist B', 1000),
    ('2031-03-02', 1, 'T1', 'Artist A, Artist B', 800), ('2031-03-02', 2, 'T4', 'Artist A', 900),
    ('2031-03-02', 5, 'T2', 'Artist B', 100), ('2031-03-02', 8, 'T7', 'Artist B, Artist C', 300),
    ('2031-03-02', 20, 'T3', 'Artist C', 800), ('2031-03-02', 60, 'T5', 'Artist C', 50),
    ('2031-03-03', 1, 'T2', 'Artist B', 1000), ('2031-03-03', 2, 'T1', 'Artist A, Artist B', 400),
    ('2031-03-03', 3, 'T4', 'Artist A', 450), ('2031-03-03', 4, 'T3', 'Artist C', 400),
    ('2031-03-03', 9, 'T7', 'Artist B, Artist C', 200), ('2031-03-03', 12, 'T6', 'Artist D', 100),
    ('2031-03-04', 3, 'T2', 'Artist B', 500), ('2031-03-04', 4, 'T4', 'Artist A', 225),
    ('2031-03-04', 5, 'T3', 'Artist C', 200),
    ('2031-03-06', 2, 'T2', 'Artist B', 600)) v(d, r, t, a, s);
select is(etl.merge_stage((select object_id from catalog.raw_object where object_key = 'k')), 17,
          'the fixture merges');

select ok(has_table_privilege('chartpulse_bi', 'reporting.chart_spells', 'select')
          and has_table_privilege('chartpulse_bi', 'reporting.survival_curves', 'select')
          and has_table_privilege('chartpulse_api', 'reporting.survival_remaining', 'select')
          and has_table_privilege('chartpulse_bi', 'reporting.track_trends', 'select'),
          'BI and the API read the survival and trend views');

set local role chartpulse_bi;
select results_eq(
    $$select left(track_id, 2), spell_no, start_date::text, end_date::text, start_rank::integer,
             best_rank::integer, charts, left_truncated, censored, ongoing, debut_band
      from reporting.chart_spells order by 1, 2$$,
    $$values ('T1', 1, '2031-03-01', '2031-03-03', 1, 1, 3, true, false, false, '1-10'),
             ('T2', 1, '2031-03-02', '2031-03-04', 5, 1, 3, false, true, false, '1-10'),
             ('T2', 2, '2031-03-06', '2031-03-06', 2, 2, 1, true, true, true, '1-10'),
             ('T3', 1, '2031-03-02', '2031-03-04', 20, 4, 3, false, true, false, '11-50'),
             ('T4', 1, '2031-03-02', '2031-03-04', 2, 2, 3, false, true, false, '1-10'),
             ('T5', 1, '2031-03-02', '2031-03-02', 60, 60, 1, false, false, false, '51-200'),
             ('T6', 1, '2031-03-03', '2031-03-03', 12, 12, 1, false, false, false, '11-50'),
             ('T7', 1, '2031-03-02', '2031-03-03', 8, 8, 2, false, false, false, '1-10')$$,
    'chart_spells: a spell never bridges the unloaded 03-05; one on a segment''s first chart '
    'is left-truncated, one on its last censored, one on the latest chart ongoing');

select results_eq(
    $$select left(track_id, 2), debut_rank::integer, peak_rank::integer, peak_date::text,
             charts_to_peak, spell_charts, decay_points
      from reporting.track_trends order by 1$$,
    $$values ('T2', 5, 1, '2031-03-03', 1, 3, 2), ('T3', 20, 4, '2031-03-03', 1, 3, 2),
             ('T4', 2, 2, '2031-03-02', 0, 3, 3), ('T5', 60, 60, '2031-03-02', 0, 1, 1),
             ('T6', 12, 12, '2031-03-03', 0, 1, 1), ('T7', 8, 8, '2031-03-02', 0, 2, 2)$$,
    'track_trends: the left-truncated T1 is left out; charts from debut to the first chart '
    'at the best rank');
-- T4 halves each chart after its peak: 900, 450, 225
select is(round((select decay_per_chart from reporting.track_trends
                 where track_id like 'T4%')::numeric, 12), 0.5::numeric,
          'track_trends: streams halving per chart after the peak decay 0.5 per chart');
select is((select count(*) from reporting.track_trends where decay_per_chart is not null), 1::bigint,
          'track_trends: fewer than three charts from the peak give no decay');

-- 8025 streams in all; lead: A = T1 + T4 = 3775, B = T2 + T7 = 2700, C = T3 + T5 = 1450,
-- D = 100; all credits: B = T1 + T2 + T7 = 4900, C = T3 + T5 + T7 = 1950
select results_eq(
    $$select artist_name, streams::bigint, round(share::numeric, 9) from reporting.artist_stream_share
      where credit_role = 'lead' order by streams desc$$,
    $$values ('Artist A', 3775::bigint, round(3775 / 8025.0, 9)),
             ('Artist B', 2700::bigint, round(2700 / 8025.0, 9)),
             ('Artist C', 1450::bigint, round(1450 / 8025.0, 9)),
             ('Artist D', 100::bigint, round(100 / 8025.0, 9))$$,
    'artist_stream_share: lead credits split the series'' streams');
select results_eq(
    $$select artist_name, streams::bigint from reporting.artist_stream_share
      where credit_role = 'all' order by streams desc$$,
    $$values ('Artist B', 4900::bigint), ('Artist A', 3775::bigint), ('Artist C', 1950::bigint),
             ('Artist D', 100::bigint)$$,
    'artist_stream_share: every credit counts the track''s streams');

select results_eq(
    $$select chart_date::text, entries, new_entries, round(new_share::numeric, 9)
      from reporting.new_entries order by 1$$,
    $$values ('2031-03-01', 1, null::integer, null::numeric),
             ('2031-03-02', 6, 5, round(5 / 6.0, 9)), ('2031-03-03', 6, 1, round(1 / 6.0, 9)),
             ('2031-03-04', 3, 0, 0::numeric), ('2031-03-06', 1, 0, 0::numeric)$$,
    'new_entries: debuts per chart; the first loaded chart has nothing before it');

select is_empty('select * from reporting.survival_curves',
                'survival_curves: empty until chartpulse refresh computes them');

select * from finish();
rollback;
