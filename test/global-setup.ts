// Tests read dist/formatter.js and start build/main.js: build both from the current source first, never
// test a stale one.
import { buildFormatter } from "../scripts/build-formatter";
import { buildService } from "../scripts/build-service";

export default async function setup(): Promise<void> {
  await Promise.all([buildFormatter(), buildService()]);
}
