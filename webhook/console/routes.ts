// The console's pages and files: one HTML page for every console path (the script draws the page the path
// names), its scripts and styles, and uPlot from the project's own node_modules: nothing from a CDN.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync } from "fastify";
import { projectPath } from "../paths";

/** The console's files, found from the TypeScript sources or compiled code alike. */
export const CONSOLE_FILES = projectPath("webhook", "console", "public");
const UPLOT_FILES = dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.esm.js"));

/** Paths the page answers; anything else under them is the API's or a file's. */
export const CONSOLE_PAGES = ["/", "/fleet", "/plugs/:devEui", "/export"];

export const consoleRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root: CONSOLE_FILES, prefix: "/assets/", index: false });
  await app.register(fastifyStatic, {
    root: UPLOT_FILES, prefix: "/assets/vendor/uplot/", decorateReply: false, index: false,
    allowedPath: (path) => path === "/uPlot.esm.js" || path === "/uPlot.min.css",
  });
  for (const url of CONSOLE_PAGES) {
    // The page holds no data; every figure comes from /api after sign-in.
    app.get(url, async (_request, reply) => reply.header("cache-control", "no-cache").sendFile("index.html"));
  }
};
