/** "01 1C 03" → [1, 28, 3] */
export function hex(text: string): number[] {
  return Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}
