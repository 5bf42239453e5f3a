-- Messages that were accepted (answered 2xx) but could not go into the tables above, kept whole with
-- the reason, until `npm run quarantine -- retry` stores them:
--  * the database refused the record for its content (a data error, SQLSTATE class 22 or 23): a value
--    out of a column's range, a string jsonb cannot hold (\u0000), …; it is written in a transaction
--    of its own, after the batch that held it was rolled back, so the other records of that batch are
--    stored;
--  * the network sent no DevEUI (TTS, for devices activated by personalisation and in its
--    downlink_failed message) and no device of that application and device id is known yet.
CREATE TABLE quarantine (
  id             bigserial PRIMARY KEY,
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  network        text NOT NULL,
  -- NULL when the network sent none.
  dev_eui        text,
  application    text,
  device_name    text,
  -- 'uplink', or the event kind ('downlink_failed', 'join', 'log', …).
  kind           text NOT NULL,
  -- The message's time as the network sent it (text: it may be the value the database refused).
  time           text NOT NULL,
  -- The record as the service hands it to the database (JSON text, payload in base64): text, not
  -- jsonb, so that whatever jsonb refused can be kept.
  record         text NOT NULL,
  reason         text NOT NULL,
  -- The database's SQLSTATE when it refused the record; NULL for a message without DevEUI.
  sqlstate       text,
  -- How many times it was quarantined (a retry that fails again, the same message re-sent).
  attempts       integer NOT NULL DEFAULT 1,
  -- One row per message: network, device, time and the message's id.
  identity       text NOT NULL UNIQUE
);
CREATE INDEX quarantine_device ON quarantine (network, application, device_name);
