// The end of every ingest route: store the record, count it, answer only after the commit.
import type { FastifyReply } from "fastify";
import type { Ingest } from "../app";
import type { IngestRecord } from "../ingest/records";

export async function storeRecord(reply: FastifyReply, ingest: Ingest, record: IngestRecord | string) {
  if (typeof record === "string") return reply.code(400).send({ statusCode: 400, error: "Bad Request", message: record });
  let outcome;
  try {
    outcome = await ingest.write(record);
  } catch (error) {
    reply.log.error({ err: error }, "batch transaction failed");
    return reply.code(503).send({
      statusCode: 503,
      error: "Service Unavailable",
      message: `the database did not take the message, it was not stored: ${(error as Error).message}`,
    });
  }
  const { metrics } = ingest;
  const labels = { network: record.network };
  if (outcome === "duplicate") metrics.duplicates.inc(labels);
  else (record.type === "uplink" ? metrics.uplinksStored : metrics.eventsStored).inc(labels);
  return { status: outcome, type: record.type, devEui: record.devEui };
}
