// The fleet's state that alerts watch, read from the database when /metrics is scraped: plugs offline
// (device_status: no keep-alive within 2.5 periods) and plugs per keep-alive state (keepalive_state(), the
// function device_keepalive uses, without the view's airtime work). The Grafana alert rules of
// dashboards/provisioning/alerting/ ask the same relations.
import type { Queryable } from "./db/database";

export interface FleetState {
  devices: number;
  offline: number;
  /** Plugs per keep-alive state: unknown, pending, in_sync, failed. */
  keepalive: Record<string, number>;
}

export const KEEPALIVE_STATES = ["unknown", "pending", "in_sync", "failed"] as const;

export async function fleetState(db: Queryable): Promise<FleetState> {
  const { rows } = await db.query<{ devices: number; offline: number; keepalive: Record<string, number> | null }>(`
    SELECT s.devices, s.offline,
      (SELECT jsonb_object_agg(state, n) FROM (
        SELECT keepalive_state(k.minutes, d.keepalive_minutes, k.failed_at) AS state, count(*)::integer AS n
        FROM devices d LEFT JOIN keepalive_desired k USING (dev_eui) GROUP BY 1) by_state) AS keepalive
    FROM (SELECT count(*)::integer AS devices, (count(*) FILTER (WHERE NOT online))::integer AS offline FROM device_status) s`);
  const [row] = rows;
  return { devices: row.devices, offline: row.offline, keepalive: row.keepalive ?? {} };
}
