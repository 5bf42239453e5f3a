import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Ingest } from "../app";
import { TtsMessage, ttsRecord } from "../ingest/tts";
import { storeRecord } from "./store-record";

/** The Things Stack v3: every webhook message type on one path. */
export const ttnRoutes: FastifyPluginAsyncTypebox<{ ingest: Ingest }> = async (app, { ingest }) => {
  app.post("/ttn", {
    schema: {
      headers: Type.Object({ authorization: Type.String() }),
      body: TtsMessage,
    },
  }, async (request, reply) => storeRecord(reply, ingest, ttsRecord(request.body)));
};
