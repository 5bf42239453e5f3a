// The whole codec travels in dist/formatter.js compressed (scripts/deflate.ts): every call parses the script's
// text again, a string literal costs QuickJS about 0.016 ms a KB, and only the rare call that needs the whole
// codec pays for restoring it. The text is the source with repeats replaced by references back into what came
// before: FAR, the distance in two digits and the length in one, or NEAR, the distance and the length in one
// digit each; digits of DIGITS. FAR and NEAR are in no source it packs; no digit is a quote or a backslash, so
// references add no escapes to the literal.

export var FAR = "~";
export var NEAR = "`";
/** 88 printable ASCII characters: not FAR, NEAR, quotes or backslash. */
export var DIGITS = "!#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}";
/** The shortest repeat worth a reference: length digit 0. */
export var SHORTEST = 4;

/** The source of `text`: each run up to the next reference copied in one slice, each reference in one substr. */
export function inflate(text: string): string {
  var out = "";
  var n = DIGITS.length;
  for (var at = 0, next = 0; at < text.length; ) {
    var far = text.indexOf(FAR, at);
    var near = text.indexOf(NEAR, at);
    next = far < 0 || (near >= 0 && near < far) ? near : far;
    if (next < 0) next = text.length;
    out += text.slice(at, next);
    if (next === text.length) break;
    var wide = next === far;
    var back = wide ? DIGITS.indexOf(text.charAt(next + 1)) * n + DIGITS.indexOf(text.charAt(next + 2)) : DIGITS.indexOf(text.charAt(next + 1));
    at = next + (wide ? 4 : 3);
    out += out.substr(out.length - back, DIGITS.indexOf(text.charAt(at - 1)) + SHORTEST);
  }
  return out;
}
