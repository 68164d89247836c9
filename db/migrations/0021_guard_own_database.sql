-- The statement guard (server/guard.c) guards the database it is connected to. Every
-- `chartpulse serve` calls etl.cancel_overrunning() on its own database, and the cancelled
-- statement's line belongs in the log of the server that guards that database: a guard
-- reaching into every database of the cluster cancelled, and logged, statements of
-- databases it does not serve (another installation on the same cluster, or another test
-- suite's database).
create or replace function etl.cancel_overrunning(grace interval default '0 s')
returns table (pid integer, role_name name, running interval, role_limit interval)
language plpgsql volatile as $$
declare
    a record;
begin
    for a in
        select s.pid, s.usename, clock_timestamp() - s.query_start as running,
               etl.role_statement_timeout(s.usesysid, s.datid) as role_limit
        from pg_stat_activity s
        where s.usename in ('chartpulse_api', 'chartpulse_bi') and s.state = 'active'
            and s.datname = current_database()
            and s.pid <> pg_backend_pid()
    loop
        if a.role_limit is not null and a.running > a.role_limit + grace
            and pg_cancel_backend(a.pid) then
            pid := a.pid;
            role_name := a.usename;
            running := a.running;
            role_limit := a.role_limit;
            return next;
        end if;
    end loop;
end
$$;
revoke all on function etl.cancel_overrunning(interval) from public;
