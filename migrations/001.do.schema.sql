-- The tables the webhook writes and dashboards read (contract §3).
-- Time-series keys lead with the device and include the time, so readings, uplinks and events can
-- later be partitioned by time or made TimescaleDB hypertables / Citus distributed tables unchanged.

-- One row per plug, kept current from its uplinks.
CREATE TABLE devices (
  dev_eui           text PRIMARY KEY CHECK (dev_eui ~ '^[0-9a-f]{16}$'),
  name              text,
  application       text,
  network           text NOT NULL CHECK (network IN ('ttn', 'chirpstack')),
  first_seen        timestamptz NOT NULL,
  -- The latest uplink or join of the device itself (not simulated, not a downlink event).
  last_seen         timestamptz,
  last_keepalive_at timestamptz,
  relay_on          boolean,
  relay_at          timestamptz,
  -- The latest reported value of every configuration response, by the codec's field name
  -- (keepAliveTime, deviceVersions, overvoltageThreshold, …), and the time of the uplink it came in.
  settings          jsonb NOT NULL DEFAULT '{}',
  settings_at       timestamptz,
  keepalive_minutes integer GENERATED ALWAYS AS ((settings ->> 'keepAliveTime')::integer) STORED,
  hardware_version  text GENERATED ALWAYS AS (settings #>> '{deviceVersions,hardware}') STORED,
  software_version  text GENERATED ALWAYS AS (settings #>> '{deviceVersions,software}') STORED,
  overheating_trigger_c   integer GENERATED ALWAYS AS ((settings #>> '{overheatingThresholds,trigger}')::integer) STORED,
  overvoltage_trigger_v   integer GENERATED ALWAYS AS ((settings #>> '{overvoltageThreshold,trigger}')::integer) STORED,
  overcurrent_threshold_a integer GENERATED ALWAYS AS ((settings ->> 'overcurrentThreshold')::integer) STORED,
  overpower_threshold_w   integer GENERATED ALWAYS AS ((settings ->> 'overpowerThreshold')::integer) STORED
);

-- Every uplink received, decodable or not, exactly once.
CREATE TABLE uplinks (
  dev_eui          text NOT NULL REFERENCES devices (dev_eui),
  received_at      timestamptz NOT NULL,
  -- The network's message id ('tts:as:up:…', 'chirpstack:<deduplicationId>'),
  -- else 'fcnt:<f_cnt>:<payload hex>'; with the device and time it identifies the uplink.
  dedup_key        text NOT NULL,
  network          text NOT NULL,
  f_cnt            bigint,
  f_port           integer,
  payload          bytea,
  decoded          jsonb,
  decode_errors    text[],
  decode_warnings  text[],
  rssi             integer,
  snr              real,
  gateway_count    integer,
  spreading_factor integer,
  frequency        bigint,
  -- The TTS console's "simulate uplink": kept, but not turned into readings or device state.
  simulated        boolean NOT NULL DEFAULT false,
  stored_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dev_eui, received_at, dedup_key)
);
CREATE INDEX uplinks_received_at ON uplinks (received_at);

-- One row per keep-alive.
CREATE TABLE readings (
  dev_eui       text NOT NULL REFERENCES devices (dev_eui),
  time          timestamptz NOT NULL,
  temperature_c real NOT NULL,
  energy_wh     bigint NOT NULL,
  power_w       integer NOT NULL,
  voltage_v     integer NOT NULL,
  current_ma    integer NOT NULL,
  relay_on      boolean NOT NULL,
  PRIMARY KEY (dev_eui, time)
);

-- Command responses, protection events, manual switching, joins and downlink events.
CREATE TABLE device_events (
  dev_eui   text NOT NULL REFERENCES devices (dev_eui),
  time      timestamptz NOT NULL,
  kind      text NOT NULL,
  data      jsonb NOT NULL DEFAULT '{}',
  network   text NOT NULL,
  dedup_key text NOT NULL,
  PRIMARY KEY (dev_eui, time, dedup_key)
);
CREATE INDEX device_events_kind_time ON device_events (kind, time);
