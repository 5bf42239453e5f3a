// GET /formatter.js: the codec bundle to paste into TTS or ChirpStack, so a user who runs only the
// Docker image gets it without Node. It holds no secret, so it needs no token.
import { readFile } from "node:fs/promises";
import type { FastifyPluginAsync } from "fastify";
import { projectPath } from "../paths";

export const FORMATTER_FILE = projectPath("dist", "formatter.js");

export const formatterRoute: FastifyPluginAsync = async (app) => {
  // Read once: the file is built with the service and does not change while it runs.
  const script = await readFile(FORMATTER_FILE, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  app.get("/formatter.js", async (_request, reply) => {
    if (script === undefined) {
      return reply.code(404).send({ statusCode: 404, error: "Not Found", message: `${FORMATTER_FILE} was not built: run npm run build` });
    }
    return reply.type("application/javascript; charset=utf-8").header("cache-control", "no-cache").send(script);
  });
};
