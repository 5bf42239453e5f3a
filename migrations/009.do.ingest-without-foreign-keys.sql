-- The raw time series and their rollups without foreign keys to devices (issue 13).
--
-- Each row inserted into a table with a foreign key runs its check: a query of devices and a KEY SHARE lock of
-- the plug's row, once per uplink, per reading and per new hour or day. That was a fifth of the database's CPU
-- per uplink (bench:ingest's batches replayed by pgbench, alternated with the same schema keeping them: 3.36
-- against 2.72 ms per batch of 25). The rows stay tied to their device by how they are written: only
-- ingest_batch writes uplinks and readings, after its upsert of their devices in the same statement, and the
-- rollups are computed from readings; nothing deletes a device. Events, downlinks and desired keep-alive
-- periods, written far less often and by other paths, keep theirs.
ALTER TABLE uplinks DROP CONSTRAINT uplinks_dev_eui_fkey;
ALTER TABLE readings DROP CONSTRAINT readings_dev_eui_fkey;
ALTER TABLE readings_hourly DROP CONSTRAINT readings_hourly_dev_eui_fkey;
ALTER TABLE readings_daily DROP CONSTRAINT readings_daily_dev_eui_fkey;
