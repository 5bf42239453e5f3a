// The packing of the codec's rest in dist/formatter.js: what scripts/pack.ts packs, formatter/unpack.ts restores.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { unpack } from "../../formatter/unpack";
import { pack } from "../../scripts/pack";

describe("pack / unpack", () => {
  it("restores any ASCII text without its reserved characters, in ASCII, never longer but for \\ and ', which it writes as words, so the text holds neither", () => {
    // Few symbols, so words repeat and nest: the cases that can go wrong.
    const text = fc.array(fc.constantFrom("a", "b", "c", "(", ")", "function", "return ", "e[n+1]", '"', "'", "\\\\"), { maxLength: 300 }).map((parts) => parts.join(""));
    fc.assert(fc.property(text, (source) => {
      const packed = pack(source);
      expect(unpack(packed.text, packed.words)).toBe(source);
      // Each such character a token (one more byte), each such word two bytes in the table.
      const escaped = ["\\", "'"].map((char) => source.split(char).length - 1).filter(Boolean);
      expect(packed.text.length + packed.words.length).toBeLessThanOrEqual(source.length + escaped.reduce((sum, n) => sum + n + 2, 0));
      expect(/^[\x20-\x7e]*$/.test(packed.text + packed.words)).toBe(true);
      expect(packed.text).not.toMatch(/[\\']/);
    }), { numRuns: 60, seed: 20 });
  });

  it("refuses a text holding the characters it packs with", () => {
    expect(() => pack("a`b")).toThrow('pack: the source holds "`", which the packing uses');
    expect(() => pack("a~b")).toThrow('pack: the source holds "~", which the packing uses');
    expect(() => pack("a\u0100b")).toThrow("pack: the source holds");
  });

  it("packs words that hold earlier words", () => {
    const source = "function(e,n){return e[n]}".repeat(6) + "return e[n]+1;".repeat(6);
    const packed = pack(source);
    expect(packed.words.split("`").some((word) => /[~#@]/.test(word))).toBe(true);
    expect(unpack(packed.text, packed.words)).toBe(source);
  });
});
