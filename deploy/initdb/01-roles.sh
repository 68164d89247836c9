#!/bin/sh
# Creates the login roles the migrations grant to, with passwords from the environment,
# on the first start of the postgres container (chartpulse migrate creates them without a
# password when they do not exist, which suits only trust-authenticated development).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v api_password="${API_PASSWORD:?API_PASSWORD is not set}" -v bi_password="${BI_PASSWORD:?BI_PASSWORD is not set}" <<'SQL'
create role chartpulse_api login password :'api_password';
create role chartpulse_bi login password :'bi_password';
SQL
