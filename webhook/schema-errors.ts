// Fastify's schema errors as one sentence naming where and what: "body/end_device_ids/dev_eui must match
// pattern …", "querystring/period must be one of hour, day" (a union of constants: one sentence, not AJV's
// three "must be equal to constant; …; must match a schema in anyOf").
import type { FastifySchemaValidationError } from "fastify/types/schema";

export function schemaErrorMessage(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const constants = new Map<string, unknown[]>();
  for (const e of errors) {
    if (e.keyword !== "const") continue;
    const list = constants.get(e.instancePath) ?? [];
    list.push((e.params as { allowedValue?: unknown }).allowedValue);
    constants.set(e.instancePath, list);
  }
  const sentences: string[] = [];
  for (const e of errors) {
    const where = `${dataVar}${e.instancePath}`;
    const allowed = constants.get(e.instancePath);
    if (allowed) {
      if (e.keyword === "anyOf") sentences.push(`${where} must be one of ${allowed.map((v) => (v === null ? "null" : String(v))).join(", ")}`);
      continue;
    }
    const values = (e.params as { allowedValues?: unknown[] }).allowedValues;
    sentences.push(`${where} ${e.message}${values ? ` (${values.join(", ")})` : ""}`);
  }
  return new Error([...new Set(sentences)].join("; "));
}
