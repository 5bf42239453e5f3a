// The Grafana dashboard's SQL, run as Grafana would run it (macros and the device variable substituted)
// against a migrated database holding a little of everything; and the read-only role Grafana logs in as.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgres } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";
import { fleetState } from "../../webhook/fleet-state";
import { writeBatch } from "../../webhook/store/batch";
import { DATABASES, freshPostgres, migratedDatabase, type TestDatabase } from "../support/databases";
import { hex } from "../support/hex";
import { keepAliveBytes, storeKeepAlives, uplinkRecord } from "../support/keepalives";

interface Target { rawSql: string; format: "table" | "time_series" }
interface Panel { id: number; title: string; targets: Target[] }
interface FieldConfig {
  defaults: Record<string, unknown>;
  overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
}

const dashboard = JSON.parse(readFileSync("dashboards/aspm16-energy.json", "utf8"));
const panels: Panel[] = dashboard.panels;
const DEVICE = "a1b2c3d4e5f60001";
// Three whole UTC days ending at yesterday's midnight: long enough ago that device_status (as of now())
// finds both plugs offline.
const FROM = new Date(Math.floor(Date.now() / 86_400_000 - 4) * 86_400_000).toISOString();
const TO = new Date(Date.parse(FROM) + 3 * 86_400_000).toISOString();
const at = (hours: number) => new Date(Date.parse(FROM) + hours * 3_600_000).toISOString();

/** What Grafana's PostgreSQL data source sends for a query: its macros expanded, variables interpolated. */
function asGrafanaSends(sql: string, from = FROM, to = TO): string {
  const expanded = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, `$1 BETWEEN '${from}' AND '${to}'`)
    .replace(/\$__timeFrom\(\)/g, `'${from}'`)
    .replace(/\$__timeTo\(\)/g, `'${to}'`)
    .replace(/\$device\b/g, DEVICE);
  // A macro or variable this function does not know would reach PostgreSQL as a syntax error: say so.
  expect(expanded, `unexpanded macro or variable in: ${sql}`).not.toMatch(/\$(?!\d)/);
  return expanded;
}

describe.each(DATABASES)("the Grafana dashboard on %s", (_name, factory) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    const times = Array.from({ length: 3 * 144 }, (_, i) => new Date(Date.parse(FROM) + i * 600_000).toISOString());
    await storeKeepAlives(test.db, DEVICE, times.map((time, i) => ({ time, energyWh: 5000 + i * 20, powerW: 120 + (i % 7), currentMa: 520 })));
    // A second plug, silent for two days, that cleared its counter, tripped a protection and was switched by hand.
    const other = "a1b2c3d4e5f60002";
    await storeKeepAlives(test.db, other, [{ time: at(1), energyWh: 900 }, { time: at(2), energyWh: 4 }]);
    const keepAlive = [...keepAliveBytes({ time: "", energyWh: 10 })];
    await test.db.transaction((tx) => writeBatch(tx, [
      uplinkRecord(other, at(3), new Uint8Array([...hex("6103010470001A"), ...keepAlive])),
      uplinkRecord(other, at(4), new Uint8Array([...hex("5D01"), ...keepAlive])),
    ]));
  });
  afterAll(() => test.drop());

  it("has a device variable whose query lists the devices", async () => {
    const [variable] = dashboard.templating.list;
    expect(variable.name).toBe("device");
    const { rows } = await test.db.query<{ __value: string; __text: string }>(asGrafanaSends(variable.query));
    expect(rows.map((r) => r.__value)).toEqual(expect.arrayContaining([DEVICE, "a1b2c3d4e5f60002"]));
  });

  it.each(panels.map((p) => [p.title, p] as const))("panel %s: its query runs and returns rows Grafana can draw", async (_title, panel) => {
    for (const target of panel.targets) {
      const { rows } = await test.db.query<Record<string, unknown>>(asGrafanaSends(target.rawSql));
      expect(rows.length, panel.title).toBeGreaterThan(0);
      for (const row of rows) {
        const [first, ...values] = Object.entries(row);
        if (target.format === "time_series") {
          // Grafana's time series: a `time` column, then numeric values.
          expect(first).toEqual(["time", expect.any(Date)]);
          for (const [column, value] of values) expect(Number.isFinite(Number(value)), `${panel.title}.${column} = ${value}`).toBe(true);
        } else {
          expect(first[0]).not.toBe("?column?");
        }
      }
    }
  });

  it("shows the figures the data implies", async () => {
    const run = async (id: number) => (await test.db.query<Record<string, unknown>>(asGrafanaSends(panels.find((p) => p.id === id)!.targets[0].rawSql))).rows;
    // 3 days × 144 keep-alives × 20 Wh (but the first), plus the other plug's 4 Wh after its reset and 6 Wh after it.
    expect(Number((await run(2))[0].kWh)).toBeCloseTo((431 * 20 + 4 + 6 + 0) / 1000, 6);
    const [events] = await run(3);
    expect([Number(events.trips), Number(events.recoveries)]).toEqual([1, 1]);
    expect((await run(11)).map((r) => r.dev_eui)).toEqual(["a1b2c3d4e5f60002", DEVICE]);
    expect((await run(14))[0]).toMatchObject({ dev_eui: "a1b2c3d4e5f60002", source: "manual", relay_on: true });
  });

  // Grafana's "last 7 days" starts mid-day: the stat must count the same days as the bars beside it.
  it("totals in 'Fleet energy in range' the days 'Fleet energy per day' draws, for a range starting mid-day", async () => {
    const sql = (id: number) => panels.find((p) => p.id === id)!.targets[0].rawSql;
    for (const [from, to] of [[at(13), TO], [at(30.5), at(60)], [FROM, at(47)]]) {
      const bars = (await test.db.query<{ kWh: string }>(asGrafanaSends(sql(5), from, to))).rows;
      const [stat] = (await test.db.query<{ kWh: string }>(asGrafanaSends(sql(2), from, to))).rows;
      const barSum = bars.reduce((sum, bar) => sum + Number(bar.kWh), 0);
      expect(bars.length, `${from} .. ${to}`).toBeGreaterThan(0);
      expect(Number(stat.kWh), `${from} .. ${to}`).toBeCloseTo(barSum, 9);
    }
  });
});

interface AlertQuery { refId: string; datasourceUid: string; relativeTimeRange?: { from: number; to: number }; model: { rawSql?: string; format?: string; type?: string; expression?: string } }
interface AlertRule { uid: string; title: string; condition: string; data: AlertQuery[]; noDataState: string; annotations: Record<string, string>; labels: Record<string, string> }
const alerting = parseYaml(readFileSync("dashboards/provisioning/alerting/aspm16-alerts.yaml", "utf8"));
const rules: AlertRule[] = alerting.groups.flatMap((g: { rules: AlertRule[] }) => g.rules);
const rule = (uid: string) => rules.find((r) => r.uid === uid)!;

describe.each(DATABASES)("the Grafana alert rules on %s", (_name, factory) => {
  let test: TestDatabase;
  const ONLINE = "a1b2c3d4e5f60010";
  const TRIPPED = "a1b2c3d4e5f60011";
  const FAILED = "a1b2c3d4e5f60012";
  const now = Date.now();
  const ago = (minutes: number) => new Date(now - minutes * 60_000).toISOString();

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    // Online (heard 5 min ago); offline for hours after an overvoltage trip and an overheating recovery; a third
    // whose keep-alive change failed.
    await storeKeepAlives(test.db, ONLINE, [{ time: ago(15), energyWh: 1 }, { time: ago(5), energyWh: 2 }]);
    const keepAlive = [...keepAliveBytes({ time: "", energyWh: 10 })];
    await test.db.transaction((tx) => writeBatch(tx, [
      uplinkRecord(TRIPPED, ago(300), new Uint8Array([...hex("6103010470001A"), ...keepAlive])),
      uplinkRecord(FAILED, ago(4), new Uint8Array(keepAlive)),
    ]));
    await test.db.query("INSERT INTO keepalive_desired (dev_eui, minutes, requested_at, attempts, failed_at, error) VALUES ($1, 15, now(), 3, now(), 'no report after 3 downlinks')", [FAILED]);
  });
  afterAll(() => test.drop());

  /** A rule's query as Grafana sends it over its relative range ending now (or over [from, to]). */
  const runRule = async (uid: string, from?: string, to?: string) => {
    const query = rule(uid).data.find((d) => d.refId === "A")!;
    const range = query.relativeTimeRange!;
    const sql = asGrafanaSends(query.model.rawSql!, from ?? ago(range.from / 60), to ?? ago(range.to / 60));
    return (await test.db.query<Record<string, unknown>>(sql)).rows;
  };

  it("each rule is a query of the dashboard's data source with a threshold on it, one numeric value per row and labels", async () => {
    const { datasources } = parseYaml(readFileSync("dashboards/provisioning/datasources/aspm16.yaml", "utf8"));
    expect(rules.map((r) => r.uid)).toEqual(["aspm16-plug-offline", "aspm16-protection-event", "aspm16-keepalive-failed"]);
    for (const r of rules) {
      const [query, condition] = r.data;
      expect(query).toMatchObject({ refId: "A", datasourceUid: datasources[0].uid, model: { format: "table" } });
      expect(condition).toMatchObject({ refId: r.condition, datasourceUid: "__expr__", model: { type: "threshold", expression: "A" } });
      // Nothing to alert on is no rows, which is all well, not "no data".
      expect(r.noDataState).toBe("OK");
      // Labels are interpolated from Grafana's environment (annotations are not): no $ in them.
      expect(JSON.stringify(r.labels)).not.toContain("$");
      const rows = await runRule(r.uid, FROM, new Date(now).toISOString());
      expect(rows.length, r.title).toBeGreaterThan(0);
      for (const row of rows) {
        const numeric = Object.entries(row).filter(([, v]) => typeof v !== "string");
        expect(numeric, `${r.title}: ${JSON.stringify(row)}`).toHaveLength(1);
        expect(Number(numeric[0][1])).toBeGreaterThan(0);
        // Every label the annotations name is a column.
        for (const label of JSON.stringify(r.annotations).matchAll(/\$labels\.(\w+)/g)) expect(row).toHaveProperty(label[1]);
      }
    }
  });

  it("fires for the plugs offline, naming them, and agrees with webhook_devices_offline", async () => {
    const rows = await runRule("aspm16-plug-offline");
    expect(rows.map((r) => r.dev_eui).sort()).toEqual([TRIPPED]);
    expect(rows[0].minutes_silent).toBeGreaterThanOrEqual(299);
    expect((await fleetState(test.db)).offline).toBe(rows.length);
  });

  it("fires for a protection event within its 10 minutes, by protection and phase, and not after", async () => {
    expect(await runRule("aspm16-protection-event")).toEqual([]);
    const rows = await runRule("aspm16-protection-event", ago(305), ago(295));
    expect(rows.map((r) => [r.dev_eui, r.protection, r.phase, r.events]).sort()).toEqual([
      [TRIPPED, "overheating", "recovery", 1],
      [TRIPPED, "overvoltage", "trip", 1],
    ]);
  });

  it("fires for a failed keep-alive change, and agrees with webhook_keepalive_devices{state=\"failed\"}", async () => {
    const rows = await runRule("aspm16-keepalive-failed");
    expect(rows).toEqual([{ dev_eui: FAILED, plug: "plug-0012", attempts: 3 }]);
    expect((await fleetState(test.db)).keepalive).toEqual({ failed: 1, unknown: 2 });
  });
});

describe("the Grafana dashboard's units and data source", () => {
  it("draws voltage and current on their own axes, in volt and mamp", () => {
    const panel = panels.find((p) => p.title.startsWith("Voltage and current")) as Panel & { fieldConfig: FieldConfig };
    const columns = [...panel.targets[0].rawSql.matchAll(/AS "([^"]+)"/g)].map((m) => m[1]);
    const unitOf = (column: string) => {
      const override = panel.fieldConfig.overrides.find((o) => o.matcher.id === "byName" && o.matcher.options === column);
      const property = (id: string) => override?.properties.find((p) => p.id === id)?.value ?? (panel.fieldConfig.defaults as Record<string, unknown>)[id];
      return { unit: property("unit"), axis: property("custom.axisPlacement") ?? "auto" };
    };
    expect(columns.filter((c) => c.endsWith(" V")).map(unitOf)).toEqual(Array(3).fill({ unit: "volt", axis: "auto" }));
    expect(columns.filter((c) => c.endsWith(" mA")).map(unitOf)).toEqual([{ unit: "mamp", axis: "right" }]);
  });

  // The versions Grafana's PostgreSQL data source editor offers (grafana/grafana, public/app/plugins/datasource/
  // grafana-postgresql-datasource/configuration/ConfigurationEditor.tsx, postgresVersions): another number shows blank.
  it("names a postgresVersion Grafana's editor knows", () => {
    const { datasources } = parseYaml(readFileSync("dashboards/provisioning/datasources/aspm16.yaml", "utf8"));
    expect([900, 901, 902, 903, 904, 905, 906, 1000, 1100, 1200, 1300, 1400, 1500]).toContain(datasources[0].jsonData.postgresVersion);
  });
});

// The compose PostgreSQL runs dashboards/postgres/grafana-reader.sql with psql before the first migration
// (dashboards/postgres/init-grafana-reader.sh); a person may run it again, e.g. to change the password.
const psql = spawnSync("psql", ["--version"]).status === 0;
describe.runIf(process.env.TEST_DATABASE_URL && psql)("Grafana's read-only role on PostgreSQL (needs TEST_DATABASE_URL and psql)", () => {
  const role = `grafana_reader_${randomBytes(4).toString("hex")}`;
  const server = process.env.TEST_DATABASE_URL!;
  let test: TestDatabase;
  let dir: string;

  /** Runs the script as the init script does; a random role name keeps concurrent runs apart. */
  const runScript = (password: string) => {
    const file = join(dir, "grafana-reader.sql");
    writeFileSync(file, readFileSync("dashboards/postgres/grafana-reader.sql", "utf8").replaceAll("grafana_reader", role));
    return execFileSync("psql", ["-v", "ON_ERROR_STOP=1", "-v", `reader_password=${password}`, "-q", "-d", test.url!, "-f", file], { encoding: "utf8", stdio: "pipe" });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "aspm16-reader-"));
    test = await freshPostgres(server);
    runScript("first-password");
    await migrate(test.db);
    await storeKeepAlives(test.db, DEVICE, [{ time: "2026-11-20T10:00:00Z", energyWh: 1 }]);
  });
  afterAll(async () => {
    await test.drop();
    const admin = postgres(server, 1);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Whether the role's stored SCRAM verifier is that of `password` (the server here trusts every login). */
  const hasPassword = async (password: string) => {
    const { rows } = await test.db.query<{ secret: string }>("SELECT rolpassword AS secret FROM pg_authid WHERE rolname = $1", [role]);
    const [, iterations, salt, storedKey] = rows[0].secret.match(/^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/)!;
    const salted = pbkdf2Sync(password, Buffer.from(salt, "base64"), Number(iterations), 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    return createHash("sha256").update(clientKey).digest("base64") === storedKey;
  };

  it("can be run twice, the second run setting the password it is given", async () => {
    expect(await hasPassword("first-password")).toBe(true);
    runScript("second-password");
    expect(await hasPassword("second-password")).toBe(true);
    expect(await hasPassword("first-password")).toBe(false);
  });

  it("reads the tables and views the migrations made after it, and cannot write", async () => {
    await test.db.session(async (s) => {
      await s.exec(`SET ROLE ${role}`);
      try {
        const { rows } = await s.query("SELECT dev_eui FROM device_status");
        expect(rows).toEqual([{ dev_eui: DEVICE }]);
        expect((await s.query("SELECT count(*)::int AS n FROM energy_hourly")).rows).toEqual([{ n: 1 }]);
        await expect(s.query("DELETE FROM readings")).rejects.toThrow(/permission denied/);
      } finally {
        await s.exec("RESET ROLE");
      }
    });
  });
});
