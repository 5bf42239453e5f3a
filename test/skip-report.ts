// A Vitest reporter that ends `npm test` by saying what did not run here and why: the PostgreSQL half of the
// database tests without TEST_DATABASE_URL, and every skipped suite's reason, taken from its name
// ("… (skipped: no chromium at /usr/bin/chromium)", "… (needs TEST_DATABASE_URL)"). A test left out by a
// name filter (-t) gives no reason and is not listed.
import type { Reporter, TestModule } from "vitest/node";

const REASON = /\((?:skipped: |needs )([^)]*)\)/;

export default class SkipReport implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const reasons = new Map<string, number>();
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== "skipped") continue;
        const match = test.fullName.match(REASON);
        const why = match ? (match[0].startsWith("(needs") ? `needs ${match[1]}` : match[1]) : result.note;
        if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
    }
    const lines = [...reasons].map(([why, n]) => `${n} test${n === 1 ? "" : "s"} skipped: ${why}`);
    if (!process.env.TEST_DATABASE_URL) {
      lines.unshift("PostgreSQL: TEST_DATABASE_URL is not set, so the database tests ran on PGlite only. To run them on PostgreSQL too, " +
        "set it to a server where the user may create databases, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test");
    }
    if (lines.length > 0) process.stdout.write(`\nNot run here, and why:\n${lines.map((l) => `  - ${l}`).join("\n")}\n\n`);
  }
}
