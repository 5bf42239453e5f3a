// No Docker engine runs here, so the Dockerfile and docker-compose.yml are checked as files and cross-checked
// against the code, and the image's command is run as the image would run it: as an unprivileged user, on a
// fresh data directory, answered by the image's own HEALTHCHECK.
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROGRAMS, serviceInputs } from "../../scripts/build-service";
import { loadConfig } from "../../webhook/config";
import { finished } from "../support/process";

interface Instruction { keyword: string; args: string }
interface Stage { from: string; name?: string; instructions: Instruction[] }

/** The Dockerfile's stages and their instructions (continuation lines joined, comments left out). */
function dockerStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const line of lines) {
    const [, keyword, args] = line.match(/^(\w+)\s+(.*)$/)!;
    if (keyword === "FROM") {
      const [, from, name] = args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i)!;
      stages.push({ from, name, instructions: [] });
    } else stages.at(-1)!.instructions.push({ keyword, args });
  }
  return stages;
}

const dockerfile = dockerStages(readFileSync("Dockerfile", "utf8"));
const [buildStage, runtime] = dockerfile;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const one = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0];
};
/** ENV lines of a stage as an object (the KEY=value form). */
const envOf = (stage: Stage) => Object.fromEntries(all(stage, "ENV").flatMap((a) => [...a.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])));
/** What a stage's COPY lines put where: destination folder name → source. */
const copiesOf = (stage: Stage) => all(stage, "COPY").map((a) => {
  const parts = a.split(/\s+/);
  const from = parts[0].startsWith("--from=") ? parts.shift()!.slice(7) : undefined;
  return { from, sources: parts.slice(0, -1), dest: parts.at(-1)! };
});

describe("the Dockerfile", () => {
  it("builds in one stage and runs on a current Node LTS slim image in another", () => {
    expect(dockerfile).toHaveLength(2);
    for (const stage of dockerfile) expect(stage.from).toMatch(/^node:(22|24)-slim$/);
    expect(buildStage.name).toBe("build");
    expect(all(buildStage, "RUN")).toContain("npm run build");
    expect(all(runtime, "RUN")).toContainEqual(expect.stringMatching(/^npm ci --omit=dev .*--ignore-scripts/));
  });

  it("copies every source file the build compiles into the build stage", async () => {
    const copied = copiesOf(buildStage).flatMap((c) => c.sources);
    const inputs = await serviceInputs();
    const folders = new Set(inputs.filter((f) => !f.startsWith("node_modules/")).map((f) => f.split("/")[0]));
    expect(folders.size).toBeGreaterThan(1);
    for (const folder of folders) expect(copied, `${folder}/ is compiled but not copied`).toContain(folder);
    expect(copied).toContain("scripts");
  });

  it("gives the runtime stage every project file the service reads, and nothing to compile", () => {
    const copies = copiesOf(runtime);
    expect(copies).toEqual(expect.arrayContaining([
      { from: "build", sources: ["/app/build"], dest: "./build" },
      { from: "build", sources: ["/app/dist"], dest: "./dist" },
    ]));
    const present = copies.map((c) => c.dest.replace(/^\.\//, ""));
    // Every path the service finds through projectPath(...) at run time is in the image.
    const read = new Set<string>();
    for (const entry of readdirSync("webhook", { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const source = readFileSync(join(entry.parentPath, entry.name), "utf8");
      for (const m of source.matchAll(/projectPath\(([^)]*)\)/g)) read.add([...m[1].matchAll(/"([^"]+)"/g)].map((q) => q[1]).join("/"));
    }
    expect([...read]).toEqual(expect.arrayContaining(["migrations", "dist/formatter.js"]));
    for (const path of read) {
      expect(present.some((dest) => path === dest || path.startsWith(`${dest}/`)), `${path} is read at run time but not in the image`).toBe(true);
    }
  });

  it("runs node build/main.js directly, as the user node, owning /data, with a HEALTHCHECK", () => {
    const users = all(runtime, "USER");
    expect(users).toEqual(["node"]);
    const userAt = runtime.instructions.findIndex((i) => i.keyword === "USER");
    const chown = runtime.instructions.findIndex((i) => i.keyword === "RUN" && /mkdir -p \/data && chown node:node \/data/.test(i.args));
    expect(chown).toBeGreaterThanOrEqual(0);
    expect(chown).toBeLessThan(userAt);
    expect(envOf(runtime)).toMatchObject({ DATA_DIR: "/data", PORT: "8080", HOST: "0.0.0.0", NODE_ENV: "production" });
    expect(all(runtime, "VOLUME")).toEqual(["/data"]);
    const cmd = JSON.parse(one(runtime, "CMD")) as string[];
    expect(cmd[0]).toBe("node");
    expect(cmd.at(-1)).toBe(`build/${Object.keys(PROGRAMS)[0]}.js`);
    expect(PROGRAMS.main).toBe("webhook/main.ts");
    expect(one(runtime, "HEALTHCHECK")).toMatch(/^--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD \[/);
  });

  it("its command, run as an unprivileged user on a fresh data directory, serves /healthz (the HEALTHCHECK) and /formatter.js, and stops on SIGTERM", async () => {
    // As root here, the service runs as nobody, as the image runs it as node; otherwise as this user.
    const ids = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const dataDir = await mkdtemp(join(tmpdir(), "aspm16-image-"));
    if (ids.uid !== undefined) chownSync(dataDir, ids.uid, ids.gid!);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const env = { PATH: process.env.PATH!, ...envOf(runtime), DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" };
    const run = (command: string[], stdio: "ignore" | "pipe") =>
      spawn(process.execPath, command.slice(1), { env, ...ids, stdio: ["ignore", stdio, stdio] });
    const cmd = JSON.parse(one(runtime, "CMD")) as string[];
    const healthcheck = JSON.parse(one(runtime, "HEALTHCHECK").replace(/^.*?CMD /, "")) as string[];
    const service = run(cmd, "pipe");
    const output = finished(service);
    try {
      let healthy = false;
      for (let i = 0; i < 300 && !healthy && service.exitCode === null; i++) {
        healthy = (await finished(run(healthcheck, "ignore"))).code === 0;
        if (!healthy) await new Promise((r) => setTimeout(r, 200));
      }
      expect(healthy, (await Promise.race([output, Promise.resolve(undefined)]))?.stderr).toBe(true);

      const formatter = await fetch(`http://127.0.0.1:${port}/formatter.js`);
      expect(formatter.status).toBe(200);
      expect(formatter.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
      expect(await formatter.text()).toBe(readFileSync("dist/formatter.js", "utf8"));

      // While it runs, no one else can even enter the data directory; what it made belongs to that user.
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      service.kill("SIGTERM");
      expect((await output).code).toBe(0);
      // Once stopped, every file is the owner's alone (PGlite sets some modes of its own while it runs).
      for (const entry of readdirSync(dataDir, { recursive: true, withFileTypes: true })) {
        const path = join(entry.parentPath, entry.name);
        const stat = statSync(path);
        if (ids.uid !== undefined) expect(stat.uid, path).toBe(ids.uid);
        expect(stat.mode & 0o777, path).toBe(stat.isDirectory() ? 0o700 : 0o600);
      }
    } finally {
      service.kill("SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

/** docker compose's interpolation of ${VAR}, ${VAR:-default} and ${VAR:?message}; $$ is a literal $. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?:(:[-?])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (whole === "$$") return "$";
    const value = env[name!];
    if (op === ":?" && !value) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    if (op === ":-" && !value) return arg!;
    return value ?? "";
  });
}

const composeText = readFileSync("docker-compose.yml", "utf8");
const PASSWORDS = { POSTGRES_PASSWORD: "pg-secret-1", GRAFANA_DB_PASSWORD: "reader-secret-2", GRAFANA_ADMIN_PASSWORD: "admin-secret-3" };
const compose = parse(interpolate(composeText, PASSWORDS));

/** The Caddyfile's one site: its top-level directives, and each handle block's directives by matcher ("" for none). */
function caddySite(text: string): { directives: string[]; handles: Map<string, string[]> } {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const directives: string[] = [];
  const handles = new Map<string, string[]>();
  let inside: string[] | undefined;
  for (const line of lines.slice(1, -1)) {
    const handle = line.match(/^handle\s*(\S*)\s*\{$/);
    if (handle) handles.set(handle[1], (inside = []));
    else if (line === "}") inside = undefined;
    else (inside ?? directives).push(line);
  }
  return { directives, handles };
}

describe("what the deployment exposes", () => {
  it("keeps .env (the passwords and tokens) out of the image's build context", () => {
    const ignored = readFileSync(".dockerignore", "utf8").split("\n").map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining([".env", "data"]));
  });

  it("publishes nothing but Caddy's ports to other machines by default", () => {
    for (const [name, service] of Object.entries<{ ports?: string[]; profiles?: string[] }>(compose.services)) {
      for (const port of service.ports ?? []) {
        if (name === "caddy") expect(port).toMatch(/^(80|443):\1(\/udp)?$/);
        else expect(port, `${name} ${port}`).toMatch(/^127\.0\.0\.1:/);
      }
    }
  });
});

describe("docker-compose.yml", () => {
  it("cannot be started without its passwords, and has no default for any secret", () => {
    expect(composeText).not.toMatch(/change-?me/i);
    for (const name of Object.keys(PASSWORDS)) {
      const { [name]: _left, ...others } = PASSWORDS as Record<string, string>;
      expect(() => interpolate(composeText, others)).toThrow(`required variable ${name} is missing a value: set ${name} in .env`);
    }
    const raw = parse(composeText);
    for (const [service, definition] of Object.entries<Record<string, unknown>>(raw.services)) {
      for (const [key, value] of Object.entries((definition.environment ?? {}) as Record<string, string>)) {
        const uses = [...String(value).matchAll(/\$\{(\w+)(:[-?])?([^}]*)\}/g)];
        for (const [, name, op, arg] of uses) {
          if (/PASSWORD|SECRET|KEY/.test(name)) expect(op, `${service}.${key}: ${name}`).toBe(":?");
          // Tokens unset → the service makes one into DATA_DIR; never a default written here.
          if (op === ":-") expect(arg, `${service}.${key}: ${name}`).toBe("");
        }
        // Compose interpolates services of inactive profiles too: a required variable there would stop
        // every `docker compose up`.
        if (definition.profiles) expect(String(value), `${service}.${key}`).not.toContain(":?");
      }
    }
  });

  it("runs the webhook on the contract's port, against the compose PostgreSQL with its password", () => {
    const { webhook, postgres } = compose.services;
    expect(webhook.build).toBe(".");
    // This host only by default, so under the tls profile too; open to the network only when asked.
    expect(webhook.ports).toEqual(["127.0.0.1:8080:8080"]);
    expect(parse(interpolate(composeText, { ...PASSWORDS, WEBHOOK_BIND: "0.0.0.0" })).services.webhook.ports).toEqual(["0.0.0.0:8080:8080"]);
    expect(webhook.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    const env = webhook.environment;
    const url = new URL(env.DATABASE_URL);
    expect(url.hostname).toBe("postgres");
    expect(url.username).toBe(postgres.environment.POSTGRES_USER);
    expect(url.password).toBe(PASSWORDS.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${postgres.environment.POSTGRES_DB}`);
    expect(postgres.healthcheck.test.join(" ")).toContain("pg_isready");
    // The environment is one the service accepts, and matches the image's.
    const config = loadConfig(env);
    expect(config).toMatchObject({ port: 8080, host: "0.0.0.0", dataDir: "/data", tokens: undefined, apiTokens: undefined });
    expect(webhook.volumes).toEqual(["webhook-data:/data"]);
    expect(envOf(runtime).DATA_DIR).toBe("/data");
    // Long enough for the service's own 8 s stop deadline.
    expect(webhook.stop_grace_period).toBe("10s");
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(["webhook-data"]));
  });

  it("puts Caddy in front of the webhook for TLS, only with the tls profile", () => {
    const { caddy, webhook } = compose.services;
    expect(caddy.profiles).toEqual(["tls"]);
    expect(caddy.image).toMatch(/^caddy:2\.\d+$/);
    expect(caddy.ports).toEqual(expect.arrayContaining(["80:80", "443:443"]));
    expect(caddy.volumes).toContain("./Caddyfile:/etc/caddy/Caddyfile:ro");
    expect(caddy.command.join(" ")).toContain("caddy run --config /etc/caddy/Caddyfile");
    const caddyfile = readFileSync("Caddyfile", "utf8");
    expect(caddyfile).toMatch(/^\{\$DOMAIN\} \{$/m);
    const site = caddySite(caddyfile);
    // Everything else goes to the webhook, Grafana under /grafana, /metrics nowhere.
    expect(site.handles.get("")).toEqual([`reverse_proxy webhook:${webhook.environment.PORT}`]);
    expect(site.handles.get("/grafana*")).toEqual([`reverse_proxy grafana:${compose.services.grafana.ports[0].split(":").at(-1)}`]);
    expect(site.handles.get("/metrics*")).toEqual(['respond "Not Found" 404']);
    expect([...site.handles.values()].flat().filter((d) => d.startsWith("reverse_proxy"))).toHaveLength(2);
    // HSTS for a year on every answer.
    const hsts = site.directives.find((d) => d.startsWith("header Strict-Transport-Security"));
    expect(Number(hsts?.match(/max-age=(\d+)/)?.[1])).toBeGreaterThanOrEqual(31_536_000);
    for (const volume of caddy.volumes as string[]) {
      const source = volume.split(":")[0];
      if (!source.startsWith("./")) expect(Object.keys(compose.volumes)).toContain(source);
    }
    // Without DOMAIN, Caddy's start says what to set instead of serving a certificate for nothing.
    const script = caddy.command[2] as string;
    const check = script.slice(0, script.indexOf("; exec"));
    const missing = spawnSync("sh", ["-c", check], { env: { DOMAIN: "" }, encoding: "utf8" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("set DOMAIN in .env");
    expect(spawnSync("sh", ["-c", check], { env: { DOMAIN: "lora.example.com" } }).status).toBe(0);
  });

  it("runs Grafana with the provisioned data source and dashboard, reading through the read-only role", () => {
    const { grafana, postgres } = compose.services;
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    // This host only: from elsewhere, Grafana is reached through Caddy's TLS at /grafana/.
    expect(grafana.ports).toEqual(["127.0.0.1:3000:3000"]);
    expect(grafana.environment).toMatchObject({ GF_SERVER_SERVE_FROM_SUB_PATH: "true", GF_SERVER_ROOT_URL: expect.stringMatching(/\/grafana\/$/) });
    expect(grafana.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(grafana.environment.GF_SECURITY_ADMIN_PASSWORD).toBe(PASSWORDS.GRAFANA_ADMIN_PASSWORD);

    // Every bind mount exists in the repository; named volumes are declared.
    const mounts = (service: { volumes: string[] }) => new Map(service.volumes.map((v) => [v.split(":")[1], v.split(":")[0]]));
    for (const service of [grafana, postgres]) {
      for (const [, source] of mounts(service)) {
        if (source.startsWith("./")) expect(existsSync(source), source).toBe(true);
        else expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
    const grafanaMounts = mounts(grafana);
    expect(grafanaMounts.get("/etc/grafana/provisioning")).toBe("./dashboards/provisioning");
    // The alert rules come with it: Grafana reads provisioning/alerting/.
    expect(readdirSync("dashboards/provisioning/alerting")).toContain("aspm16-alerts.yaml");
    const provider = parse(readFileSync("dashboards/provisioning/dashboards/aspm16.yaml", "utf8")).providers[0];
    expect(grafanaMounts.get(provider.options.path)).toBe("./dashboards");
    expect(existsSync(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH.replace(provider.options.path, "dashboards"))).toBe(true);

    // The data source: what it reads from Grafana's environment is set, and points at the compose database.
    const source = parse(readFileSync("dashboards/provisioning/datasources/aspm16.yaml", "utf8")).datasources[0];
    const env = grafana.environment;
    const used = [...JSON.stringify(source).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    for (const name of used) expect(env, name).toHaveProperty(name);
    expect(env.ASPM16_DB_HOST).toBe("postgres:5432");
    expect(env.ASPM16_DB_NAME).toBe(postgres.environment.POSTGRES_DB);
    expect(env.GRAFANA_DB_PASSWORD).toBe(PASSWORDS.GRAFANA_DB_PASSWORD);
    expect(postgres.environment.GRAFANA_DB_PASSWORD).toBe(PASSWORDS.GRAFANA_DB_PASSWORD);
    // Every panel and variable uses that data source.
    const dashboard = JSON.parse(readFileSync("dashboards/aspm16-energy.json", "utf8"));
    const refs = [...dashboard.panels.flatMap((p: { datasource: unknown; targets: { datasource: unknown }[] }) => [p.datasource, ...p.targets.map((t) => t.datasource)]),
      ...dashboard.templating.list.map((v: { datasource: unknown }) => v.datasource)];
    for (const ref of refs) expect(ref).toEqual({ type: source.type, uid: source.uid });

    // The role it logs in as is made by the init script the postgres image runs, from the mounted SQL.
    const initScript = readFileSync("dashboards/postgres/init-grafana-reader.sh", "utf8");
    const postgresMounts = mounts(postgres);
    expect(postgresMounts.get("/docker-entrypoint-initdb.d/init-grafana-reader.sh")).toBe("./dashboards/postgres/init-grafana-reader.sh");
    const sqlPath = initScript.match(/-f (\S+)/)![1];
    expect(postgresMounts.get(sqlPath)).toBe("./dashboards/postgres/grafana-reader.sql");
    expect(readFileSync("dashboards/postgres/grafana-reader.sql", "utf8")).toContain(`CREATE ROLE ${source.user} LOGIN`);
  });
});
