-- Device names set through the API (contract §4, "Device names and removal"): PATCH /api/devices/{devEui}
-- {"name"} sets user_name, which the names network servers send no longer overwrite; null returns to the
-- network's. `devices.name` stays the one name every view and dashboard reads; a trigger keeps it
-- coalesce(user_name, the network's name), and keeps the network's latest name in network_name meanwhile.
-- Ingest (ingest_batch) writes `name` as before: the trigger fires only when a name changes, which is rare.
ALTER TABLE devices ADD COLUMN user_name text, ADD COLUMN network_name text;

CREATE FUNCTION devices_user_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.user_name IS DISTINCT FROM OLD.user_name THEN
    -- Set or cleared through the API: the name up to now was the network's when no user name was set.
    IF OLD.user_name IS NULL THEN
      NEW.network_name := OLD.name;
    END IF;
    NEW.name := coalesce(NEW.user_name, NEW.network_name);
  ELSIF NEW.user_name IS NOT NULL THEN
    -- A network server sent another name: kept aside while the user's name stands.
    NEW.network_name := NEW.name;
    NEW.name := NEW.user_name;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER devices_user_name BEFORE UPDATE OF name, user_name ON devices
FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name OR NEW.user_name IS DISTINCT FROM OLD.user_name)
EXECUTE FUNCTION devices_user_name();
