-- The dashboard's reporting functions (0013_dashboard.sql): who may call them, and the
-- range arithmetic of series_range on charts placed by hand (charts without entries):
--   global regional daily:  2031-03-01 02 .. .. 05     (03-03, 03-04 missing)
--   global regional weekly: Thursdays 2031-03-06, 03-13
begin;
select plan(7);

insert into core.chart (chart_kind, region, period, chart_date, entries)
select k, r, p, d::date, 1
from (values
    ('regional', 'global', 'daily', '2031-03-01'), ('regional', 'global', 'daily', '2031-03-02'),
    ('regional', 'global', 'daily', '2031-03-05'),
    ('regional', 'global', 'weekly', '2031-03-06'), ('regional', 'global', 'weekly', '2031-03-13'))
    v(k, r, p, d);

select ok(has_function_privilege('chartpulse_bi',
              'reporting.chart_records(text, text, text, date, date, integer)', 'execute')
          and has_function_privilege('chartpulse_api',
              'reporting.track_regions(text, date, text, text)', 'execute')
          and has_function_privilege('chartpulse_bi',
              'reporting.artist_streams(text, text, text, text, text, text, date, date)', 'execute'),
          'the BI and API roles may call the dashboard functions');
select ok(not has_function_privilege('public',
              'reporting.chart_records(text, text, text, date, date, integer)', 'execute'),
          'PUBLIC may not');

set local role chartpulse_bi;
select results_eq($$select chart_date::text from reporting.chart_dates('global')$$,
                  $$values ('2031-03-01'), ('2031-03-02'), ('2031-03-05')$$,
                  'chart_dates: the loaded dates, oldest first');
select results_eq($$select from_date::text, to_date::text, charts, charts_expected, history_complete
                    from reporting.series_range('global')$$,
                  $$values ('2031-03-01', '2031-03-05', 3::bigint, 5::bigint, false)$$,
                  'series_range: the whole series, two days missing');
select results_eq($$select from_date::text, to_date::text, charts, charts_expected, history_complete
                    from reporting.series_range('global', 'daily', 'regional', '2031-02-01', '2031-03-03')$$,
                  $$values ('2031-03-01', '2031-03-02', 2::bigint, 2::bigint, true)$$,
                  'series_range: the first and last loaded chart inside the range');
select results_eq($$select charts, charts_expected, history_complete
                    from reporting.series_range('global', 'weekly')$$,
                  $$values (2::bigint, 2::bigint, true)$$,
                  'series_range: weekly periods are weeks');
select results_eq($$select region from reporting.series_regions('daily', 'regional')$$,
                  $$values ('global')$$, 'series_regions: the regions with a chart in the series');

select * from finish();
rollback;
