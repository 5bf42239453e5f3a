// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked as files.
import { readFileSync } from "node:fs";
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
});
