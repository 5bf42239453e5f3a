-- Every downlink the service sends, with its state (contract §4): queued here until the network server
-- takes it, then moved along by the network's events (TTS downlink_sent/ack/nack/failed, ChirpStack
-- txack/ack).
CREATE TABLE downlinks (
  id              bigserial PRIMARY KEY,
  dev_eui         text NOT NULL REFERENCES devices (dev_eui),
  network         text NOT NULL CHECK (network IN ('ttn', 'chirpstack')),
  f_port          integer NOT NULL CHECK (f_port BETWEEN 1 AND 223),
  bytes           bytea NOT NULL,
  -- The encodeDownlink input, as the caller gave it.
  data            jsonb NOT NULL,
  confirmed       boolean NOT NULL DEFAULT false,
  state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'acked', 'nacked', 'failed')),
  -- Who asked: 'api' (POST /api/devices/{devEui}/downlinks), 'keepalive' (the keep-alive reconciler), …
  purpose         text NOT NULL DEFAULT 'api',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- The last thing that went wrong: the network API's refusal, or the network's failure event.
  error           text,
  -- Pushes to the network API so far.
  attempts        integer NOT NULL DEFAULT 0,
  -- When the sender next pushes it; null once the network server has taken it (or it failed).
  next_attempt_at timestamptz DEFAULT now(),
  -- When the network API took it.
  pushed_at       timestamptz,
  -- What the network's events carry to tie them to this row: the correlation id sent to TTS, or
  -- ChirpStack's queue item id.
  network_ref     text
);
CREATE INDEX downlinks_device_created ON downlinks (dev_eui, created_at DESC);
CREATE UNIQUE INDEX downlinks_network_ref ON downlinks (network_ref) WHERE network_ref IS NOT NULL;
CREATE INDEX downlinks_due ON downlinks (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
