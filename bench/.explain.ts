import { postgres } from "../webhook/db/database";
import { energyByDevice } from "../webhook/api/energy";
const db = postgres(process.argv[2]);
const DAY = 86_400_000;
const END = Math.floor(Date.now() / DAY) * DAY;
const q = { period: "day" as const, from: new Date(END - 7 * DAY), to: new Date(END), timeZone: "Europe/Berlin" };
const orig = db.query.bind(db);
(db as any).query = async (sql: string, params: unknown[]) => {
  const plan = await orig(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
  console.log(plan.rows.map((r: any) => r["QUERY PLAN"]).join("\n"));
  return orig(sql, params);
};
await energyByDevice(db, q);
await db.close();
