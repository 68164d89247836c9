-- The star schema's shape: tables, keys, partitioning, the reporting surface.
begin;
select plan(28);

select has_schema(s) from unnest(array['core', 'catalog', 'etl', 'reporting']) s;
select has_table('core', t, 'core.' || t) from unnest(array['region', 'track', 'artist',
    'track_credit', 'chart', 'chart_entry', 'chart_run', 'track_month']) t;
select col_is_pk('core', 'chart_entry', array['chart_kind', 'region', 'period', 'chart_date', 'rank'],
                 'a chart position is unique');
select fk_ok('core', 'chart_run', 'track_id', 'core', 'track', 'track_id');
select fk_ok('core', 'track_credit', 'artist_id', 'core', 'artist', 'artist_id');
select is((select relkind::text from pg_class where oid = 'core.chart_entry'::regclass), 'p',
          'chart_entry is partitioned');
select has_index('core', 'chart_entry', 'chart_entry_track_idx', 'track history index');
select has_view('reporting', v, 'reporting.' || v) from unnest(array['chart_entries', 'track_stats',
    'artist_stats', 'artist_months', 'daily_totals', 'movers', 'credits', 'series_coverage',
    'series_gaps']) v;
select has_function('reporting', 'artist_leaderboard', 'leaderboard function');
select has_function('reporting', 'track_history', 'track history function');

select * from finish();
rollback;
