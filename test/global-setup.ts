// The bundle tests read dist/formatter.js: build it from the current source first, never test a stale one.
import { buildFormatter } from "../scripts/build-formatter";

export default async function setup(): Promise<void> {
  await buildFormatter();
}
