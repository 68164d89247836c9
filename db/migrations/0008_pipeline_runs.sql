-- Pipeline runs (`chartpulse pipeline run`, POST /v1/pipeline/runs, the scheduler): one
-- row per run and one per step, with timings, outcome and the error text of a failure.

create table etl.pipeline_run (
    run_id      bigint generated always as identity primary key,
    trigger     text not null check (trigger in ('schedule', 'api', 'cli')),
    started_at  timestamptz not null default now(),
    finished_at timestamptz,
    status      text not null default 'running'
                check (status in ('running', 'succeeded', 'failed')),
    error       text,
    check ((status = 'running') = (finished_at is null))
);
-- At most one run goes at a time: a second start fails on this index (409 in the API).
create unique index pipeline_run_one_running on etl.pipeline_run ((true))
    where status = 'running';

create table etl.pipeline_step (
    run_id      bigint not null references etl.pipeline_run on delete cascade,
    step_no     smallint not null,
    name        text not null check (name in ('ingest', 'load', 'enrich', 'refresh')),
    status      text not null default 'pending'
                check (status in ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    started_at  timestamptz,
    finished_at timestamptz,
    detail      text,
    primary key (run_id, step_no)
);

grant select on etl.pipeline_run, etl.pipeline_step to chartpulse_api;
