// npm run build (also run by `prepare` on npm install / npm ci): dist/formatter.js and build/*.js.
import { BUDGET, buildFormatter, LIMIT } from "./build-formatter";
import { buildService, PROGRAMS } from "./build-service";

const [size] = await Promise.all([buildFormatter(), buildService()]);
console.log(`dist/formatter.js: ${size} bytes (budget ${BUDGET}, TTS limit ${LIMIT})`);
console.log(`build/: ${Object.keys(PROGRAMS).map((name) => `${name}.js`).join(", ")}`);
