// A query parameter or body field the route's schema does not declare is refused, naming it: a misspelt
// `perod=hour` must not quietly answer days, nor a misspelt "force" or "confirmed" do something else
// (Fastify lets undeclared keys through without a word).
import type { TObject } from "@sinclair/typebox";
import type { FastifyInstance, FastifySchema } from "fastify";
import { ApiError } from "../../api/errors";

type Part = "querystring" | "body";

/** The first key of `value` that `schema` does not declare, and what it does declare. */
function undeclared(value: unknown, schema: FastifySchema[Part]): { key: string; known: string[] } | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const known = Object.keys((schema as TObject | undefined)?.properties ?? {});
  const key = Object.keys(value).find((k) => !known.includes(k));
  return key === undefined ? undefined : { key, known };
}

/** For every route of `scope`: 400 for an undeclared query parameter or body field. */
export function refuseUndeclared(scope: FastifyInstance): void {
  // Query parameters before validation, so a misspelt name is named rather than a value it left at its default.
  scope.addHook("preValidation", async (request) => {
    const found = undeclared(request.query, request.routeOptions.schema?.querystring);
    if (found) throw new ApiError(400, `querystring/${found.key} is not a parameter of this read; expected ${found.known.join(", ") || "none"}`);
  });
  // Body fields after it, so the schema's own errors (a missing or mistyped field) come first.
  scope.addHook("preHandler", async (request) => {
    const schema = request.routeOptions.schema?.body as TObject | undefined;
    const found = undeclared(request.body, schema);
    if (found) throw new ApiError(400, `body/${found.key} is not a field; expected ${schema?.description ?? found.known.join(", ")}`);
  });
}
