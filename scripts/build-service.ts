// Compiles the service and the command-line tools to plain JavaScript in build/, so production runs
// `node build/main.js` (no TypeScript loader, and a signal reaches the service itself). Dependencies
// stay in node_modules (--packages=external); project files are found through webhook/paths.ts.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUILD_DIR = join(root, "build");

/** build/<name>.js ← source, one per command the package runs. */
export const PROGRAMS = {
  main: "webhook/main.ts",
  migrate: "webhook/migrate-cli.ts",
  copy: "webhook/copy-cli.ts",
  codec: "formatter/cli.ts",
  quarantine: "webhook/quarantine-cli.ts",
} as const;

const options = {
  entryPoints: Object.fromEntries(Object.entries(PROGRAMS).map(([name, source]) => [name, join(root, source)])),
  outdir: BUILD_DIR,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  // Shared code goes into chunks instead of a copy per program.
  splitting: true,
  sourcemap: "linked",
  logLevel: "warning",
} satisfies BuildOptions;

export async function buildService(): Promise<void> {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  await build(options);
}

/** The project files build/ is compiled from (for the Dockerfile's check), without writing anything. */
export async function serviceInputs(): Promise<string[]> {
  const { metafile } = await build({ ...options, write: false, metafile: true, absWorkingDir: root });
  return Object.keys(metafile.inputs);
}
