import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { ChirpStackEvent, ChirpStackQuery, chirpstackRecord, fromProtobuf } from "../ingest/chirpstack";
import { dropNulls } from "../ingest/schema-common";
import { type Ingest, storeRecord } from "./store-record";

/** ChirpStack v4 HTTP integration: `?event=…`, JSON or protobuf bodies. */
export const chirpstackRoutes: FastifyPluginAsyncTypebox<{ ingest: Ingest }> = async (app, { ingest }) => {
  // Protobuf is brought to the JSON shape here, so one schema checks both encodings.
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (request, body, done) => {
    const event = (request.query as { event?: unknown }).event;
    const json = fromProtobuf(String(event), body as Buffer);
    if (typeof json === "string") done(Object.assign(new Error(json), { statusCode: 400 }), undefined);
    else done(null, json);
  });

  app.post("/chirpstack", {
    schema: {
      headers: Type.Object({ authorization: Type.String() }),
      querystring: ChirpStackQuery,
      body: ChirpStackEvent,
    },
    preValidation: async (request) => void dropNulls(request.body, ChirpStackEvent),
  }, async (request, reply) => storeRecord(reply, ingest, chirpstackRecord(request.query.event, request.body)));
};
