// The end of every ingest route: store the record, count it, answer only after the commit (or once it
// is durably kept in the spool or the quarantine: 202).
import type { FastifyReply } from "fastify";
import { type Received, withBelievableTime } from "../ingest/records";
import type { Metrics } from "../metrics";
import { SpoolError } from "../store/spool";
import type { BatchWriter } from "../store/writer";

/** Where the webhook routes hand what they received (app.ts makes it). */
export interface Ingest {
  /** Stores a record; resolves after its commit, or once it is fsync'ed into the spool or quarantined. */
  write(record: Received): ReturnType<BatchWriter["write"]>;
  metrics: Metrics;
}

export async function storeRecord(reply: FastifyReply, ingest: Ingest, record: Received | string) {
  if (typeof record === "string") return reply.code(400).send({ statusCode: 400, error: "Bad Request", message: record });
  let written;
  try {
    written = await ingest.write(withBelievableTime(record));
  } catch (error) {
    reply.log.error({ err: error }, "a message could not be stored or spooled");
    const reason = error instanceof SpoolError ? `the database is unavailable and ${error.message}` : `the database did not take it: ${(error as Error).message}`;
    return reply.code(503).send({ statusCode: 503, error: "Service Unavailable", message: `the message was not stored: ${reason}` });
  }
  const { metrics } = ingest;
  const labels = { network: record.network };
  const { outcome, reason, devEui = record.devEui } = written;
  if (outcome === "duplicate") metrics.duplicates.inc(labels);
  else if (outcome === "stored") (record.type === "uplink" ? metrics.uplinksStored : metrics.eventsStored).inc(labels);
  // Spooled or quarantined: durably accepted, not (yet) in the tables.
  if (outcome === "spooled" || outcome === "quarantined") reply.code(202);
  return { status: outcome, type: record.type, devEui, ...(reason ? { reason } : {}) };
}
