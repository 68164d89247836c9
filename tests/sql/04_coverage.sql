-- reporting.series_coverage and reporting.series_gaps against gaps placed by hand. The
-- views read core.chart alone, so the fixture is charts without entries:
--
--   global regional daily:  2031-03-01 02 .. .. 05 06 .. .. .. 10   (gaps 03-04, 07-09)
--   global regional weekly: Thursdays 2031-03-06 13 .. .. 04-03      (gap 03-20 .. 03-27)
--   se regional weekly:     2031-03-06 (Thu) and 03-07 (Fri) in week 0, 03-20 (Thu, week 2),
--                           03-29 (Sat, week 3: 23 days / 7): week 1 (03-13) is missing
--   za viral daily:         one chart, 2031-03-01
begin;
select plan(9);

insert into core.chart (chart_kind, region, period, chart_date, entries)
select k, r, p, d::date, 1
from (values
    ('regional', 'global', 'daily', '2031-03-01'), ('regional', 'global', 'daily', '2031-03-02'),
    ('regional', 'global', 'daily', '2031-03-05'), ('regional', 'global', 'daily', '2031-03-06'),
    ('regional', 'global', 'daily', '2031-03-10'),
    ('regional', 'global', 'weekly', '2031-03-06'), ('regional', 'global', 'weekly', '2031-03-13'),
    ('regional', 'global', 'weekly', '2031-04-03'),
    ('regional', 'se', 'weekly', '2031-03-06'), ('regional', 'se', 'weekly', '2031-03-07'),
    ('regional', 'se', 'weekly', '2031-03-20'), ('regional', 'se', 'weekly', '2031-03-29'),
    ('viral', 'za', 'daily', '2031-03-01')) v(k, r, p, d);

select results_eq(
    $$select chart_kind, region, period, first_date::text, last_date::text, charts,
             charts_expected, charts_missing, gaps
      from reporting.series_coverage order by region, chart_kind, period$$,
    $$values ('regional', 'global', 'daily', '2031-03-01', '2031-03-10', 5::bigint, 10::bigint, 5::bigint, 2::bigint),
             ('regional', 'global', 'weekly', '2031-03-06', '2031-04-03', 3, 5, 2, 1),
             ('regional', 'se', 'weekly', '2031-03-06', '2031-03-29', 4, 4, 1, 1),
             ('viral', 'za', 'daily', '2031-03-01', '2031-03-01', 1, 1, 0, 0)$$,
    'coverage per series: charts expected from first to last, missing, in how many ranges');

select results_eq(
    $$select chart_kind, region, period, gap_from::text, gap_to::text, charts_missing
      from reporting.series_gaps order by region, chart_kind, period, gap_from$$,
    $$values ('regional', 'global', 'daily', '2031-03-03', '2031-03-04', 2),
             ('regional', 'global', 'daily', '2031-03-07', '2031-03-09', 3),
             ('regional', 'global', 'weekly', '2031-03-20', '2031-03-27', 2),
             ('regional', 'se', 'weekly', '2031-03-13', '2031-03-13', 1)$$,
    'one row per missing range, dated as its first and last chart would be');

select is_empty(
    $$select c.chart_kind, c.region, c.period
      from reporting.series_coverage c
      left join (select chart_kind, region, period, sum(charts_missing) as missing, count(*) as n
                 from reporting.series_gaps group by 1, 2, 3) g using (chart_kind, region, period)
      where c.charts_missing <> coalesce(g.missing, 0) or c.gaps <> coalesce(g.n, 0)$$,
    'coverage counts the charts and ranges that series_gaps lists');

select is((select charts + charts_missing - charts_expected from reporting.series_coverage
           where region = 'se'), 1::bigint,
          'two charts in one week: the extra one is counted as loaded, not as filling a week');

-- closing a gap and opening one at the end
insert into core.chart (chart_kind, region, period, chart_date, entries)
values ('regional', 'global', 'daily', '2031-03-03', 1), ('regional', 'global', 'daily', '2031-03-04', 1),
       ('regional', 'global', 'daily', '2031-03-12', 1);
select results_eq(
    $$select gap_from::text, gap_to::text, charts_missing from reporting.series_gaps
      where region = 'global' and period = 'daily' order by gap_from$$,
    $$values ('2031-03-07', '2031-03-09', 3), ('2031-03-11', '2031-03-11', 1)$$,
    'the views follow core.chart: a filled gap goes, a new one appears');
select results_eq(
    $$select charts, charts_expected, charts_missing from reporting.series_coverage
      where region = 'global' and period = 'daily'$$,
    $$values (8::bigint, 12::bigint, 4::bigint)$$,
    'and the counts with them');

set local role chartpulse_bi;
select lives_ok('select * from reporting.series_coverage', 'bi reads series_coverage');
select lives_ok('select * from reporting.series_gaps', 'bi reads series_gaps');
reset role;
set local role chartpulse_api;
select is((select count(*) from reporting.series_gaps), 4::bigint, 'api reads series_gaps');
reset role;

select * from finish();
rollback;
