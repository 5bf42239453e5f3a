// The time range of a read (?from=…&to=…), checked and defaulted the same way on every endpoint. A bound is
// an instant (2026-12-01T00:00:00Z, or with an offset), a date (2026-12-01: that day's midnight) or a local
// date-time (2026-12-01T08:00); the last two are read in the request's time zone (`tz`), else in UTC.
import { Type } from "@sinclair/typebox";
import { ApiError } from "./errors";

const BOUND_FORMS = "a date (2026-12-01) or a date-time (2026-12-01T00:00:00Z)";

export const RangeQuery = {
  from: Type.Optional(Type.String({ description: `start, inclusive: ${BOUND_FORMS}; a date or a date-time without zone is in \`tz\` (else UTC); default: \`to\` minus the default span` })),
  to: Type.Optional(Type.String({ description: `end, exclusive: ${BOUND_FORMS}; default: now` })),
};

/** The longest range one read may span: a year of hours per plug is still a few MB. */
export const MAX_RANGE_MS = 400 * 86_400_000;

const BOUND = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms. */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second")) - Math.floor(instant / 1000) * 1000;
}

/** The instant a wall-clock time (given as if it were UTC) is in `timeZone`; a time skipped by DST moves forward. */
function wallClockToInstant(wall: number, timeZone: string): number {
  const first = wall - zoneOffsetMs(wall, timeZone);
  return wall - zoneOffsetMs(first, timeZone);
}

/** One bound of a range as an instant; 400 naming the parameter and the forms it takes otherwise. */
export function parseBound(name: "from" | "to", value: string, timeZone?: string): Date {
  const refuse = (why: string) => new ApiError(400, `querystring/${name} ${JSON.stringify(value)} ${why}`);
  const m = value.trim().match(BOUND);
  if (!m) throw refuse(`is not ${BOUND_FORMS}`);
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), fraction ? Math.floor(Number(fraction) * 1000) : 0);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw refuse("is not a day or time of the calendar");
  }
  if (zone) {
    if (zone.toUpperCase() === "Z") return new Date(wall);
    const [, sign, hh, mm] = zone.match(/^([+-])(\d{2}):?(\d{2})$/)!;
    return new Date(wall - (sign === "-" ? -1 : 1) * (Number(hh) * 60 + Number(mm)) * 60_000);
  }
  return new Date(timeZone ? wallClockToInstant(wall, timeZone) : wall);
}

/** `timeZone` (an IANA name, checked by the caller) places dates and zoneless date-times; UTC without it. */
export function timeRange(query: { from?: string; to?: string }, defaultSpanMs: number, timeZone?: string): { from: Date; to: Date } {
  const to = query.to === undefined ? new Date() : parseBound("to", query.to, timeZone);
  const from = query.from === undefined ? new Date(to.getTime() - defaultSpanMs) : parseBound("from", query.from, timeZone);
  if (from >= to) throw new ApiError(400, `querystring/from (${from.toISOString()}) must be before querystring/to (${to.toISOString()})`);
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
    throw new ApiError(400, `querystring/from .. querystring/to spans more than ${MAX_RANGE_MS / 86_400_000} days; ask for less at a time`);
  }
  return { from, to };
}
