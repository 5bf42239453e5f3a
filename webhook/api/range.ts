// The time range of a read (?from=ISO&to=ISO), checked and defaulted the same way on every endpoint.
import { Type } from "@sinclair/typebox";
import { ApiError } from "./errors";

export const RangeQuery = {
  from: Type.Optional(Type.String({ format: "date-time", description: "start, inclusive (ISO 8601 with zone); default: `to` minus the default span" })),
  to: Type.Optional(Type.String({ format: "date-time", description: "end, exclusive (ISO 8601 with zone); default: now" })),
};

/** The longest range one read may span: a year of hours per plug is still a few MB. */
export const MAX_RANGE_MS = 400 * 86_400_000;

export function timeRange(query: { from?: string; to?: string }, defaultSpanMs: number): { from: Date; to: Date } {
  const to = query.to === undefined ? new Date() : new Date(query.to);
  const from = query.from === undefined ? new Date(to.getTime() - defaultSpanMs) : new Date(query.from);
  if (from >= to) throw new ApiError(400, `querystring/from (${from.toISOString()}) must be before querystring/to (${to.toISOString()})`);
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
    throw new ApiError(400, `querystring/from .. querystring/to spans more than ${MAX_RANGE_MS / 86_400_000} days; ask for less at a time`);
  }
  return { from, to };
}
