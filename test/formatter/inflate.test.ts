// The compression of the whole codec in dist/formatter.js: what scripts/deflate.ts packs, formatter/inflate.ts restores.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inflate } from "../../formatter/inflate";
import { deflate } from "../../scripts/deflate";

describe("deflate / inflate", () => {
  it("restores any text without its marks, never longer, adding no quote or backslash", () => {
    // Few symbols, so repeats are near and far, long and short, overlapping: the cases that can go wrong.
    const part = fc.constantFrom("a", "b", "(", ")", "function", "return ", "e[n+1]", '"', "\\", "x".repeat(100), "0123456789".repeat(30));
    fc.assert(fc.property(fc.array(part, { maxLength: 400 }).map((parts) => parts.join("")), (source) => {
      const packed = deflate(source);
      expect(inflate(packed)).toBe(source);
      expect(packed.length).toBeLessThanOrEqual(source.length);
      const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
      expect(count(packed, /["'\\]/g)).toBeLessThanOrEqual(count(source, /["'\\]/g));
    }), { numRuns: 100, seed: 28 });
  });

  it("refuses a text holding its marks", () => {
    expect(() => deflate("a~b")).toThrow("deflate: the source holds ~");
    expect(() => deflate("a`b")).toThrow("deflate: the source holds `");
  });
});
