// Deep partial matching for vitest: every object of `expected` may be a subset of the actual one;
// fractions are compared as float4 (real columns) keep them.
import { expect } from "vitest";

export function partial(expected: unknown): unknown {
  if (typeof expected === "number" && !Number.isInteger(expected)) return expect.closeTo(expected, 4);
  if (Array.isArray(expected)) return expected.map(partial);
  if (expected === null || typeof expected !== "object" || "asymmetricMatch" in expected) return expected;
  return expect.objectContaining(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, partial(v)])));
}
