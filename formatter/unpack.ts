// The packing of the whole codec inside dist/formatter.js (packed by scripts/pack.ts, unpacked by the text that
// runs it, compiled only by the calls that need the whole codec):
// a word table; word i stands in the text for token(i), two ASCII characters no code of the codec holds, and
// may hold earlier words. ASCII, because goja keeps a string with any other character as UTF-16: unpacking and
// compiling the rest took it 30 ms that way, 4 ms this way.

/** Separates the words of the table. */
export var SEPARATOR = "`";
/** A token is one of these followed by one of ALPHABET; none of them is in the packed code. */
export var ESCAPES = "~#@";
export var ALPHABET = " !\"$%&()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}";

export function token(i: number): string {
  return ESCAPES.charAt((i / ALPHABET.length) | 0) + ALPHABET.charAt(i % ALPHABET.length);
}

/** One native split/join per word, the latest word first, so it costs little even in otto. */
export function unpack(text: string, table: string): string {
  var words = table.split(SEPARATOR);
  for (var i = words.length; i--; ) text = text.split(token(i)).join(words[i]);
  return text;
}
