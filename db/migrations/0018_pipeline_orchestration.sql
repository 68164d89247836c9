-- Orchestration of pipeline runs (pipeline/pipeline_run.c, pipeline/scheduler.c): a step
-- failing is retried with backoff, so a step row counts its attempts; `pipeline run
-- --resume RUN` starts a run that names the run it resumes and skips the steps that run
-- had finished; and the scheduler inside every `chartpulse serve` claims each slot of
-- CHARTPULSE_SCHEDULE here before starting its run, so servers sharing a schedule run
-- each slot once (the run lock alone would let a second server start the same slot again
-- after the first one's run ended).

alter table etl.pipeline_step
    add column attempts smallint not null default 0 check (attempts >= 0);

alter table etl.pipeline_run
    add column resumed_from bigint references etl.pipeline_run on delete set null;

create table etl.pipeline_schedule_slot (
    slot       timestamptz primary key,
    claimed_at timestamptz not null default now(),
    claimed_by text not null,          -- host:pid of the server that claimed it
    run_id     bigint references etl.pipeline_run on delete set null,
    note       text                    -- why no run started, when none did
);

grant select on etl.pipeline_schedule_slot to chartpulse_api;
