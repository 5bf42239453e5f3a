-- What real traffic carries: TTS defines RSSI as a float (-60.5 happens), and the keep-alive's airtime
-- needs the bandwidth beside the spreading factor (keepalive-airtime.md).
ALTER TABLE uplinks ALTER COLUMN rssi TYPE real;
ALTER TABLE uplinks ADD COLUMN bandwidth_hz integer;
