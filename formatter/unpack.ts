// The packing of the codec's rest inside dist/formatter.js (packed by scripts/pack.ts, unpacked by script.ts):
// a word table whose word i stands in the text for the character U+0100 + i and may hold earlier words.

/** Separates the words of the table; the packed code never holds it. */
export var SEPARATOR = "`";
export var FIRST_SYMBOL = 256;

/** One native split/join per word, the latest word first, so it costs little even in otto. */
export function unpack(text: string, table: string): string {
  var words = table.split(SEPARATOR);
  for (var i = words.length; i--; ) text = text.split(String.fromCharCode(FIRST_SYMBOL + i)).join(words[i]);
  return text;
}
