-- chartpulse_bi reads the reporting schema and nothing else, and writes nothing;
-- chartpulse_api reads but never writes.
begin;
select plan(23);

set local role chartpulse_bi;
select lives_ok('select * from reporting.' || v || ' limit 1', 'bi reads reporting.' || v)
from unnest(array['chart_entries', 'track_stats', 'artist_stats', 'daily_totals', 'movers',
                   'series_coverage', 'series_gaps']) v;
select lives_ok($$select * from reporting.artist_leaderboard('global', 'daily', '2020-01-01', '2020-12-31')$$,
                'bi runs the leaderboard');
select throws_ok('select * from core.chart_entry limit 1', '42501', null, 'bi cannot read core');
select throws_ok('select * from catalog.raw_object limit 1', '42501', null, 'bi cannot read the catalog');
select throws_ok('select * from etl.reject limit 1', '42501', null, 'bi cannot read rejects');
select throws_ok('select * from public.schema_migrations', '42501', null, 'bi cannot read migrations');
select throws_ok($$insert into core.region values ('zz', 'Zedland')$$, '42501', null, 'bi cannot write core');
select throws_ok('create temp table bi_scratch (x int)', null, null, 'bi cannot create tables');
reset role;

set local role chartpulse_api;
select lives_ok('select * from core.chart_entry limit 1', 'api reads core');
select throws_ok($$insert into core.region values ('zz', 'Zedland')$$, null, null, 'api cannot write');
reset role;

-- Role settings apply at login (the JDBC test logs in as chartpulse_bi); check them here.
select ok((select setconfig from pg_db_role_setting where setrole = 'chartpulse_bi'::regrole
           and setdatabase = 0) @> array['statement_timeout=60s', 'default_transaction_read_only=on'],
          'bi logs in read-only with a statement timeout');
select ok((select setconfig from pg_db_role_setting where setrole = 'chartpulse_api'::regrole
           and setdatabase = 0) @> array['jit=off', 'default_transaction_read_only=on'],
          'api logs in read-only without JIT');

-- Limits the roles cannot lift themselves (0015): temp_file_limit is SUSET, so a role-level
-- value holds; a connection limit is changed only by a CREATEROLE role.
select ok((select setconfig from pg_db_role_setting where setrole = 'chartpulse_bi'::regrole
           and setdatabase = 0) @> array['temp_file_limit=4GB'], 'bi logs in with a temp_file_limit');
select ok((select setconfig from pg_db_role_setting where setrole = 'chartpulse_api'::regrole
           and setdatabase = 0) @> array['temp_file_limit=1GB'], 'api logs in with a temp_file_limit');
select is((select rolconnlimit from pg_roles where rolname = 'chartpulse_bi'), 16,
          'bi has a connection limit');
set local role chartpulse_bi;
select throws_ok('set temp_file_limit = -1', '42501', null, 'bi cannot lift its temp_file_limit');
reset role;
set local role chartpulse_api;
select throws_ok('set temp_file_limit = -1', '42501', null, 'api cannot lift its temp_file_limit');
reset role;

select * from finish();
rollback;
