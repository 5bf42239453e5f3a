// A query parameter a read does not know is refused, naming it: a misspelt `perod=hour` must not quietly
// answer days.
import type { TObject } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { ApiError } from "../../api/errors";

/** For every route of `scope`: 400 when the query string holds a parameter its schema does not name. */
export function refuseUnknownParameters(scope: FastifyInstance): void {
  scope.addHook("preValidation", async (request) => {
    const known = Object.keys((request.routeOptions.schema?.querystring as TObject | undefined)?.properties ?? {});
    const unknown = Object.keys(request.query as object).find((key) => !known.includes(key));
    if (unknown !== undefined) {
      throw new ApiError(400, `querystring/${unknown} is not a parameter of this read; expected ${known.join(", ") || "none"}`);
    }
  });
}
