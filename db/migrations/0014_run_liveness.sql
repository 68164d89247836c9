-- Pipeline-run liveness. A run is alive while the process executing it holds a
-- session-level advisory lock on etl.pipeline_run_lock_key(), taken on the connection the
-- run is recorded on (pipeline/pipeline_run.c). When that process dies, however it dies
-- (SIGKILL, OOM, a lost host), PostgreSQL ends its session and the lock goes with it; so a
-- row still `running` while nobody holds the lock belongs to a process that stopped. The
-- next run, once it holds the lock, marks such rows failed; listings show them failed at
-- once (etl.pipeline_run_lock_held() is readable by chartpulse_api, which cannot write).
-- The unique index of 0008 stays: it still keeps two `running` rows from ever coexisting.

-- The one place the key is spelt. It fits in 32 bits, so pg_locks shows it as
-- classid 0, objid key, objsubid 1 (a one-bigint advisory lock).
create function etl.pipeline_run_lock_key() returns bigint
    language sql immutable parallel safe
as $$ select 1668313717::bigint $$;

-- Whether any session of this database holds the run lock now.
create function etl.pipeline_run_lock_held() returns boolean
    language sql stable
as $$
    select exists (
        select 1 from pg_catalog.pg_locks l
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
          and l.database = (select oid from pg_catalog.pg_database
                            where datname = current_database())
          and l.classid::bigint = etl.pipeline_run_lock_key() >> 32
          and l.objid::bigint = etl.pipeline_run_lock_key() & 4294967295)
$$;

-- The age rule this replaces (CP_PIPELINE_STALE_HOURS: 6 hours) failed a killed run only
-- after 6 hours and would have failed a live run that took longer.
grant execute on function etl.pipeline_run_lock_key(), etl.pipeline_run_lock_held()
    to chartpulse_api;
