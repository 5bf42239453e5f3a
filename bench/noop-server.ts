// The baseline of bench:ingest: a Fastify endpoint that parses the JSON body and does nothing with it.
import Fastify from "fastify";

const app = Fastify();
app.post("/ttn", async () => ({ status: "stored" }));
app.get("/readyz", async () => ({ status: "ready" }));
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1" });
console.log(address);
