import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { dropNulls } from "../ingest/schema-common";
import { TtsMessage, ttsRecord } from "../ingest/tts";
import { type Ingest, storeRecord } from "./store-record";

export interface TtnRouteOptions {
  ingest: Ingest;
  /** Told of the X-Downlink-Push / X-Downlink-Apikey headers of each call (the TTS downlink route learns them). */
  downlinkHeaders?: (application: string, push: string, apiKey: string) => void;
}

/** The Things Stack v3: every webhook message type on one path. */
export const ttnRoutes: FastifyPluginAsyncTypebox<TtnRouteOptions> = async (app, { ingest, downlinkHeaders }) => {
  app.post("/ttn", {
    schema: {
      headers: Type.Object({ authorization: Type.String() }),
      body: TtsMessage,
    },
    preValidation: async (request) => void dropNulls(request.body, TtsMessage),
  }, async (request, reply) => {
    const application = request.body.end_device_ids.application_ids?.application_id;
    const push = request.headers["x-downlink-push"];
    const apiKey = request.headers["x-downlink-apikey"];
    if (downlinkHeaders && application && typeof push === "string" && typeof apiKey === "string") downlinkHeaders(application, push, apiKey);
    return storeRecord(reply, ingest, ttsRecord(request.body));
  });
};
