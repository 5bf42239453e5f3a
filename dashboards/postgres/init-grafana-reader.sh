#!/bin/sh
# Run once by the postgres image when it creates the database (docker-entrypoint-initdb.d).
set -eu
psql -v ON_ERROR_STOP=1 -v reader_password="$GRAFANA_DB_PASSWORD" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f /etc/aspm16/grafana-reader.sql
