// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked as files.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../webhook/config";

const compose = parse(readFileSync("docker-compose.yml", "utf8"));
const dockerfile = readFileSync("Dockerfile", "utf8");

describe("docker-compose.yml and Dockerfile", () => {
  it("run the webhook on the contract's port, against the compose PostgreSQL", () => {
    const { webhook, postgres } = compose.services;
    expect(webhook.build).toBe(".");
    expect(webhook.ports).toEqual(["8080:8080"]);
    expect(webhook.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    const env = webhook.environment;
    const url = new URL(env.DATABASE_URL.replaceAll("${POSTGRES_PASSWORD:-change-me}", "change-me"));
    expect(url.hostname).toBe("postgres");
    expect(url.username).toBe(postgres.environment.POSTGRES_USER);
    expect(url.pathname).toBe(`/${postgres.environment.POSTGRES_DB}`);
    expect(postgres.healthcheck.test.join(" ")).toContain("pg_isready");
    // The environment is one the service accepts.
    const config = loadConfig({ ...env, DATABASE_URL: url.toString(), WEBHOOK_TOKENS: "" });
    expect(config).toMatchObject({ port: 8080, host: "0.0.0.0", dataDir: "/data", tokens: undefined });
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(webhook.volumes.map((v: string) => v.split(":")[0])));
  });

  it("build an image that has what the service loads at run time and starts it", () => {
    for (const dir of ["formatter", "webhook", "migrations"]) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, "m"));
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "webhook\/main\.ts"\]$/m);
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(["tsx", "fastify", "pg", "postgrator", "@electric-sql/pglite"]));
  });

  it("run Grafana with the provisioned data source and dashboard, reading through the read-only role", () => {
    const { grafana, postgres } = compose.services;
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(grafana.ports).toEqual(["3000:3000"]);
    expect(grafana.depends_on).toEqual({ postgres: { condition: "service_healthy" } });

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
    expect(env.GRAFANA_DB_PASSWORD).toBe(postgres.environment.GRAFANA_DB_PASSWORD);
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
