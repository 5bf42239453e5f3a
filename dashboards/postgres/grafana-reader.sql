-- A login role for Grafana that can read every table and view the webhook creates, and write nothing.
-- Run by the database owner (the role that runs the migrations) with psql: -v reader_password=…
-- Safe to run again: the role is made once, and a second run sets its password to the one given.
SELECT format('CREATE ROLE grafana_reader LOGIN PASSWORD %L', :'reader_password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') \gexec
ALTER ROLE grafana_reader LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE :"DBNAME" TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
-- Tables and views made later by the migrations, and those that already exist.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_reader;
