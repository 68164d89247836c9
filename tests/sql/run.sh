#!/usr/bin/env bash
# Runs the pgTAP suites in this folder with pg_prove against a new database migrated by
# the chartpulse binary under test (CHARTPULSE_BINARY), on the cluster DATABASE_URL names.
# It is migrated rather than copied from a template because database-level privileges
# (the migrations revoke TEMPORARY from PUBLIC) are not copied with a template. Each suite
# runs in a transaction it rolls back. pgTAP is created as the cluster's superuser (it is
# not a trusted extension); the suites switch to the application roles themselves.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${DATABASE_URL:=postgresql://chartpulse@127.0.0.1:54320/chartpulse_test}"
PORT=$(sed -E 's|.*:([0-9]+)/.*|\1|' <<<"$DATABASE_URL")
DB=chartpulse_test_sql
admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
admin -d postgres -c "drop database if exists $DB with (force)" -c "create database $DB owner chartpulse"
DATABASE_URL="postgresql://chartpulse@127.0.0.1:$PORT/$DB" CHARTPULSE_LOG_FORMAT=text \
    "${CHARTPULSE_BINARY:?set CHARTPULSE_BINARY to the chartpulse binary}" migrate 2>/dev/null
admin -d "$DB" -c "create extension if not exists pgtap"
exec pg_prove --quiet --failures -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" "$HERE"/*.sql
