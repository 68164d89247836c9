-- Limits of the read-only roles that the roles themselves cannot lift.
--
-- statement_timeout (0001) is a USERSET parameter: `alter role ... set` only makes it the
-- session's default, and chartpulse_bi may `set statement_timeout = 0`. Three defences
-- that the role cannot undo, each with its limit (docs/security.md):
--   * temp_file_limit, a SUSET parameter the role may not set. Setting it per role takes a
--     superuser or `grant set on parameter temp_file_limit` (scripts/env.sh grants it to
--     chartpulse; on Aurora rds_superuser does); without it this migration warns instead.
--   * a connection limit per BI role (alter role by the CREATEROLE owner).
--   * etl.cancel_overrunning(), which cancels statements of the two roles that run past
--     the role's own statement_timeout default; `chartpulse serve` calls it every few
--     seconds (server/guard.c). Cancelling another role's backend takes membership of that
--     role, which a CREATEROLE owner may grant itself in PostgreSQL 15.

alter role chartpulse_bi connection limit 16;
alter role chartpulse_bi set idle_in_transaction_session_timeout = '60s';
alter role chartpulse_api set idle_in_transaction_session_timeout = '30s';

do $$
begin
    if has_parameter_privilege('temp_file_limit', 'set') then
        alter role chartpulse_api set temp_file_limit = '1GB';
        alter role chartpulse_bi set temp_file_limit = '4GB';
    else
        raise warning 'temp_file_limit is not set for chartpulse_api and chartpulse_bi: '
            'the migrating role may not set it (as a superuser: grant set on parameter '
            'temp_file_limit to %, then migrate again)', current_user;
    end if;
end
$$;

-- membership without the roles' privileges mattering: both only read what the owner owns
grant chartpulse_api, chartpulse_bi to current_user;

-- A role's statement_timeout default as an interval: the per-database setting before the
-- role's own, as a login applies them; null when there is none or it is 0. A bare number
-- is milliseconds, as the parameter reads it.
create or replace function etl.role_statement_timeout(role_id oid, database_id oid)
returns interval language sql stable as $$
    select case when v ~ '^[0-9]+$' then v::bigint * interval '1 millisecond' else v::interval end
    from (select substr(c, length('statement_timeout=') + 1) v, s.setdatabase
          from pg_db_role_setting s, unnest(s.setconfig) c
          where s.setrole = role_id and s.setdatabase in (0, database_id)
            and c like 'statement_timeout=%') t
    where v !~ '^0+[a-z]*$'
    order by setdatabase desc
    limit 1
$$;

-- Cancels the statements of chartpulse_api and chartpulse_bi that have run longer than
-- their role's statement_timeout default plus grace, whatever the session set, and says
-- which. The caller needs membership of both roles (above).
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
