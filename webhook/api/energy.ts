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
/** The filters of a per-plug read on `e.dev_eui` and the device row `d`. */
function filtersSql(q: EnergyQuery, params: unknown[]): string {
  const filters: string[] = [];
  if (q.devEui !== undefined) filters.push(`e.dev_eui = $${params.push(q.devEui)}`);
  if (q.application !== undefined) filters.push(`d.application = $${params.push(q.application)}`);
  return filters.map((f) => ` AND ${f}`).join("");
}

function seriesSql(q: EnergyQuery, params: unknown[]): string {
  params.push(q.from, q.to);
  const and = filtersSql(q, params);
  if (q.period === "hour") {
    return `SELECT e.dev_eui, d.name, e.hour AS period_start, e.energy_wh FROM energy_hourly e LEFT JOIN devices d USING (dev_eui)
      WHERE e.hour >= $1 AND e.hour < $2${and}`;
  }
  if (q.timeZone === undefined || q.timeZone === "UTC") {
    return `SELECT e.dev_eui, d.name, e.day AS period_start, e.energy_wh FROM energy_daily e LEFT JOIN devices d USING (dev_eui)
      WHERE e.day >= $1 AND e.day < $2${and}`;
  }
  // A local day is the UTC days whose noon falls in it (energy_daily), plus its hours in other UTC days, minus
  // those UTC days' hours outside it (energy_hourly): the "edge" hours, as many per day as the zone's offset
  // from UTC rounds to, instead of 24 per plug and day. The edges come from the calendar (a few hundred hours
  // at most), then each is one scan of the hour index. A plug has the day when its readings there add up to more
  // than none. Exact in any zone, DST days and half-hour offsets included: hours belong to the local day of
  // their start, as before.
  const zone = `$${params.push(q.timeZone)}`;
  // One plug's or one application's rows only (by the parameters filtersSql gave them), so an application's read
  // costs its own plugs' rows.
  const plug = (q.devEui === undefined ? "" : ` AND e.dev_eui = $${params.indexOf(q.devEui) + 1}`) +
    (q.application === undefined ? "" : ` AND e.dev_eui IN (SELECT dev_eui FROM devices WHERE application = $${params.indexOf(q.application) + 1})`);
  return `WITH days AS MATERIALIZED (
      SELECT u.day, date_trunc('day', u.day + interval '12 hours', ${zone}) AS local_day
      FROM generate_series(date_trunc('day', $1::timestamptz, 'UTC') - interval '1 day', $2::timestamptz + interval '1 day', interval '1 day') u(day)
    ), edges AS MATERIALIZED (
      SELECT h.hour, date_trunc('day', h.hour, ${zone}) AS local_day, days.local_day AS day_local_day
      FROM generate_series(date_trunc('day', $1::timestamptz, 'UTC') - interval '1 day', $2::timestamptz + interval '1 day', interval '1 hour') h(hour)
      JOIN days ON days.day = date_trunc('day', h.hour, 'UTC')
      WHERE date_trunc('day', h.hour, ${zone}) <> days.local_day
        AND (date_trunc('day', h.hour, ${zone}) >= $1 AND date_trunc('day', h.hour, ${zone}) < $2 OR days.local_day >= $1 AND days.local_day < $2)
    ), edge_rows AS MATERIALIZED (
      -- Each edge row read once, then counted in two local days.
      SELECT e.dev_eui, e.energy_wh, e.readings, edges.local_day, edges.day_local_day
      FROM energy_hourly e JOIN edges ON edges.hour = e.hour
      WHERE e.hour >= date_trunc('day', $1::timestamptz, 'UTC') - interval '1 day' AND e.hour <= $2::timestamptz + interval '1 day'${plug}
    ), parts AS (
      SELECT e.dev_eui, days.local_day, e.energy_wh, e.readings FROM energy_daily e JOIN days ON days.day = e.day
      WHERE days.local_day >= $1 AND days.local_day < $2${plug}
        AND e.day >= date_trunc('day', $1::timestamptz, 'UTC') - interval '1 day' AND e.day <= $2::timestamptz + interval '1 day'
      UNION ALL
      SELECT e.dev_eui, s.local_day, s.sign * e.energy_wh, s.sign * e.readings
      FROM edge_rows e CROSS JOIN LATERAL (VALUES (e.local_day, 1), (e.day_local_day, -1)) s(local_day, sign)
      WHERE s.local_day >= $1 AND s.local_day < $2
    ), e AS (
      SELECT p.dev_eui, p.local_day, sum(p.energy_wh)::bigint AS energy_wh FROM parts p GROUP BY 1, 2 HAVING sum(p.readings) > 0
    )
    SELECT e.dev_eui, d.name, e.local_day AS period_start, e.energy_wh FROM e LEFT JOIN devices d USING (dev_eui)
    WHERE true${and}`;
}

/** One row per device and period with consumption recorded, by device then time. */
export async function energyByDevice(db: Queryable, q: EnergyQuery): Promise<EnergyRow[]> {
  const params: unknown[] = [];
  // DevEUIs are lowercase hex: bytewise order is theirs, and far cheaper than the locale's.
  const { rows } = await db.query<EnergyRow>(`${seriesSql(q, params)} ORDER BY dev_eui COLLATE "C", period_start`, params);
  return rows;
}

/** Rows fetched per query by `energyHours`. */
export const ENERGY_PAGE_ROWS = 5000;

/**
 * The hourly rows of a range in time order (hour, then plug), read in pages of `pageRows`: each page starts after
 * the last row of the one before (keyset on the hour index), so memory stays one page, nothing is sorted beyond
 * an hour's plugs, and no connection or snapshot is held between pages (a page sees what committed before it).
 */
export async function* energyHours(db: Queryable, q: EnergyQuery, pageRows = ENERGY_PAGE_ROWS): AsyncGenerator<EnergyRow> {
  let after: { hour: Date; devEui: string } = { hour: q.from, devEui: "" };
  for (;;) {
    const params: unknown[] = [q.from, q.to, after.hour, after.devEui, pageRows];
    const { rows } = await db.query<EnergyRow>(
      `SELECT e.dev_eui, d.name, e.hour AS period_start, e.energy_wh FROM energy_hourly e LEFT JOIN devices d USING (dev_eui)
       WHERE e.hour >= $1 AND e.hour < $2 AND e.hour >= $3 AND (e.hour > $3 OR e.dev_eui > $4)${filtersSql(q, params)}
       ORDER BY e.hour, e.dev_eui LIMIT $5`, params);
    yield* rows;
    if (rows.length < pageRows) return;
    const last = rows[rows.length - 1];
    after = { hour: last.period_start, devEui: last.dev_eui };
  }
}

export interface FleetEnergyRow {
  period_start: Date;
  energy_wh: string;
  devices: number;
}

/**
 * The fleet's (or one application's) consumption per period, and how many plugs it sums, from
 * fleet_energy_hourly (migration 012): a few rows per hour, however large the fleet. A plug counts in a period
 * at its first hour there: the hour whose gap to the plug's previous hour reaches back before the period.
 */
export async function fleetEnergy(db: Queryable, q: EnergyQuery): Promise<FleetEnergyRow[]> {
  const params: unknown[] = [q.from, q.to];
  const application = q.application === undefined ? "" : `AND f.application = $${params.push(q.application)}`;
  const start = q.period === "hour" ? "h.hour" : `date_trunc('day', h.hour, $${params.push(q.timeZone ?? "UTC")})`;
  // The period's length: an hour, or a local day of up to 25 hours (a DST change).
  const reach = q.period === "hour" ? "interval '1 hour'" : "interval '26 hours'";
  const { rows } = await db.query<FleetEnergyRow>(
    // Summed over applications and shards first (materialized), so a zone's midnights are worked out per hour and
    // gap, not per stored row.
    `WITH h AS MATERIALIZED (
       SELECT f.hour, f.gap, sum(f.plugs) AS plugs, sum(f.energy_wh) AS energy_wh FROM fleet_energy_hourly f
       WHERE f.hour >= $1 AND f.hour < $2::timestamptz + ${reach} ${application}
       GROUP BY f.hour, f.gap
     ), p AS (
       SELECT ${start} AS period_start, h.* FROM h
     )
     SELECT p.period_start, sum(p.energy_wh)::bigint AS energy_wh,
       coalesce(sum(p.plugs) FILTER (WHERE p.gap * interval '1 hour' > p.hour - p.period_start), 0)::integer AS devices
     FROM p WHERE p.period_start >= $1 AND p.period_start < $2
     GROUP BY p.period_start HAVING coalesce(sum(p.plugs) FILTER (WHERE p.gap * interval '1 hour' > p.hour - p.period_start), 0) > 0
     ORDER BY p.period_start`, params);
  return rows;
}
