// Consumption per hour or day, read from the rollups (contract §3): one query for a plug's chart, the
// fleet's chart and the CSV export, so they can never disagree.
import type { Queryable } from "../db/database";

export type Period = "hour" | "day";

export interface EnergyQuery {
  period: Period;
  /** Periods starting at or after `from` and before `to`. */
  from: Date;
  to: Date;
  /**
   * An IANA time zone: days are that zone's midnights to midnights (from energy_hourly). Absent or UTC:
   * UTC days, straight from energy_daily. Hours are the same in every zone.
   */
  timeZone?: string;
  devEui?: string;
  application?: string;
}

export interface EnergyRow {
  dev_eui: string;
  name: string | null;
  period_start: Date;
  energy_wh: string;
}

/** Whether `zone` is a time zone name the service knows (Node's ICU; PostgreSQL reads the same tz database). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// Devices are joined for their names and applications only: a plug removed from the fleet (DELETE
// /api/devices/{devEui}) keeps its energy history, which still counts, nameless, as in fleet_energy_daily.
function seriesSql(q: EnergyQuery, params: unknown[]): string {
  params.push(q.from, q.to);
  const filters: string[] = [];
  if (q.devEui !== undefined) filters.push(`e.dev_eui = $${params.push(q.devEui)}`);
  if (q.application !== undefined) filters.push(`d.application = $${params.push(q.application)}`);
  const and = filters.map((f) => ` AND ${f}`).join("");
  if (q.period === "hour") {
    return `SELECT e.dev_eui, d.name, e.hour AS period_start, e.energy_wh FROM energy_hourly e LEFT JOIN devices d USING (dev_eui)
      WHERE e.hour >= $1 AND e.hour < $2${and}`;
  }
  if (q.timeZone === undefined || q.timeZone === "UTC") {
    return `SELECT e.dev_eui, d.name, e.day AS period_start, e.energy_wh FROM energy_daily e LEFT JOIN devices d USING (dev_eui)
      WHERE e.day >= $1 AND e.day < $2${and}`;
  }
  // A local day starting before `to` ends at most 26 hours after it (a DST change): the bound keeps the
  // hour index in use. Each hour's local day is worked out once (date_trunc with a zone is not cheap; a
  // materialized CTE keeps the planner from repeating it in the filter).
  const zone = `$${params.push(q.timeZone)}`;
  return `WITH h AS MATERIALIZED (
      SELECT e.dev_eui, d.name, date_trunc('day', e.hour, ${zone}) AS period_start, e.energy_wh
      FROM energy_hourly e LEFT JOIN devices d USING (dev_eui)
      WHERE e.hour >= $1 AND e.hour < $2::timestamptz + interval '26 hours'${and})
    SELECT dev_eui, name, period_start, sum(energy_wh)::bigint AS energy_wh FROM h
    WHERE period_start >= $1 AND period_start < $2
    GROUP BY 1, 2, 3`;
}

/** One row per device and period with consumption recorded, by device then time. */
export async function energyByDevice(db: Queryable, q: EnergyQuery): Promise<EnergyRow[]> {
  const params: unknown[] = [];
  const { rows } = await db.query<EnergyRow>(`${seriesSql(q, params)} ORDER BY dev_eui, period_start`, params);
  return rows;
}

export interface FleetEnergyRow {
  period_start: Date;
  energy_wh: string;
  devices: number;
}

/** The fleet's (or one application's) consumption per period, and how many plugs it sums. */
export async function fleetEnergy(db: Queryable, q: EnergyQuery): Promise<FleetEnergyRow[]> {
  const params: unknown[] = [];
  const { rows } = await db.query<FleetEnergyRow>(
    `SELECT period_start, sum(energy_wh)::bigint AS energy_wh, count(*)::integer AS devices FROM (${seriesSql(q, params)}) s
     GROUP BY period_start ORDER BY period_start`, params);
  return rows;
}
