// Packs the rest of the codec into the formatter's budget: formatter/script.ts keeps it as text and unpacks
// it on first need (formatter/unpack.ts). Words are chosen greedily, most bytes saved first, each standing
// for one character above the source's while choosing; the result writes word i as token(i), two ASCII
// characters the source never holds, so a token is found only where it was put. Deterministic.
// A backslash and a single quote are the first words, whatever they save: the packed text then holds neither,
// so it is quoted without one escape (an escape sends otto and goja down their slow path for the whole literal:
// 7 KB cost otto 0.025 ms a call plain, 0.064 with 14 escapes); only the short word table is escaped.
import { ALPHABET, ESCAPES, SEPARATOR, token } from "../formatter/unpack";

const TOKENS = ESCAPES.length * ALPHABET.length;

const FIRST_SYMBOL = 0x100;
/** What a single-quoted text would escape. */
const ESCAPED = ["\\", "'"];
/** Words are chosen among the best candidates, recounted every few picks. */
const CANDIDATES = 300;
const RECOUNT_EVERY = 6;
const LONGEST_WORD = 40;

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

/** Bytes saved by standing `word` (found `count` times) for a two-character token, less its place in the table. */
const gain = (word: string, count: number) => count * (utf8(word) - 2) - (utf8(word) + 1);

const occurrences = (text: string, word: string) => text.split(word).length - 1;

/** The substrings worth most, by an estimate that counts overlapping occurrences. */
function candidates(text: string): string[] {
  const counts = new Map<string, number>();
  for (let length = 3; length <= LONGEST_WORD; length++) {
    for (let at = 0; at + length <= text.length; at++) {
      const word = text.slice(at, at + length);
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts].filter(([, count]) => count > 1).sort((a, b) => gain(b[0], b[1]) - gain(a[0], a[1]) || (a[0] < b[0] ? -1 : 1))
    .slice(0, CANDIDATES).map(([word]) => word);
}

export interface Packed {
  text: string;
  /** The word table, words joined by SEPARATOR: word i stands for token(i). */
  words: string;
}

/** `maxWords` words at most, besides those of ESCAPED. */
export function pack(source: string, maxWords = TOKENS - ESCAPED.length): Packed {
  for (const char of source) {
    if (char.charCodeAt(0) >= FIRST_SYMBOL || (SEPARATOR + ESCAPES).includes(char)) {
      throw new Error(`pack: the source holds ${JSON.stringify(char)}, which the packing uses`);
    }
  }
  let text = source;
  const words: string[] = [];
  for (const char of ESCAPED) {
    if (!text.includes(char)) continue;
    text = text.split(char).join(String.fromCharCode(FIRST_SYMBOL + words.length));
    words.push(char);
  }
  const escapedWords = words.length;
  let pool: string[] = [];
  let picksSinceCount = RECOUNT_EVERY;
  for (;;) {
    if (picksSinceCount >= RECOUNT_EVERY) [pool, picksSinceCount] = [candidates(text), 0];
    let best = "";
    let bestGain = 0;
    for (const word of pool) {
      const g = gain(word, occurrences(text, word));
      if (g > bestGain || (g === bestGain && g > 0 && word < best)) [best, bestGain] = [word, g];
    }
    if (!best || words.length >= maxWords + escapedWords) {
      if (picksSinceCount === 0) break; // a fresh count found nothing worth a word
      picksSinceCount = RECOUNT_EVERY;
      continue;
    }
    text = text.split(best).join(String.fromCharCode(FIRST_SYMBOL + words.length));
    words.push(best);
    picksSinceCount++;
  }
  const tokens = (s: string) => s.replace(/[\u0100-\uffff]/g, (symbol) => token(symbol.charCodeAt(0) - FIRST_SYMBOL));
  return { text: tokens(text), words: tokens(words.join(SEPARATOR)) };
}
