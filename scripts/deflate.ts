// Compresses the whole codec for dist/formatter.js (formatter/inflate.ts restores it): greedy, each position
// takes the longest earlier repeat within reach that does not run into itself, found through a table of where
// each SHORTEST-character string was seen; a repeat within DIGITS.length characters takes the short reference.
// Deterministic.
import { DIGITS, FAR, inflate, NEAR, SHORTEST } from "../formatter/inflate";

const FARTHEST = DIGITS.length * DIGITS.length - 1;
const LONGEST = SHORTEST + DIGITS.length - 1;

export function deflate(source: string): string {
  for (const mark of [FAR, NEAR]) if (source.includes(mark)) throw new Error(`deflate: the source holds ${mark}, which the packing uses`);
  const seen = new Map<string, number[]>();
  let out = "";
  for (let at = 0; at < source.length; ) {
    let best = 0;
    let bestBack = 0;
    for (const from of seen.get(source.slice(at, at + SHORTEST)) ?? []) {
      const back = at - from;
      if (back > FARTHEST) continue;
      let length = 0;
      while (length < LONGEST && length < back && at + length < source.length && source[from + length] === source[at + length]) length++;
      // A far reference takes four characters: worth it from five on.
      const worth = (l: number, b: number) => l - (b < DIGITS.length ? 3 : 4);
      if (worth(length, back) > worth(best, bestBack)) [best, bestBack] = [length, back];
    }
    const near = bestBack < DIGITS.length;
    const step = best >= (near ? SHORTEST : SHORTEST + 1) ? best : 1;
    if (step > 1) {
      out += (near ? NEAR : FAR + DIGITS[Math.floor(bestBack / DIGITS.length)]) + DIGITS[bestBack % DIGITS.length] + DIGITS[best - SHORTEST];
    } else out += source[at];
    for (let i = at; i < at + step; i++) {
      const key = source.slice(i, i + SHORTEST);
      seen.set(key, [...(seen.get(key) ?? []), i]);
    }
    at += step;
  }
  if (inflate(out) !== source) throw new Error("deflate: the packed text does not restore its source");
  return out;
}
