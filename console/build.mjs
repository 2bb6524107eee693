// Builds the console into dist/console/: one minified script (esbuild), one stylesheet, the page
// and its icon. No framework, no CDN: everything the browser loads comes from the gateway.
// `node console/build.mjs` (npm run build:console); prints the bundle's sizes.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist", "console");
mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, legalComments: "none", logLevel: "warning", target: ["chrome109", "firefox115", "safari16"] };
await build({ ...common, entryPoints: [join(here, "src", "main.ts")], outfile: join(out, "app.js"), format: "iife", tsconfig: join(here, "tsconfig.json") });
await build({ ...common, entryPoints: [join(here, "src", "styles.css")], outfile: join(out, "app.css") });
for (const file of ["index.html", "favicon.svg"]) copyFileSync(join(here, "static", file), join(out, file));
const sizes = ["index.html", "app.js", "app.css", "favicon.svg"].map((file) => {
  const body = readFileSync(join(out, file));
  return `${file} ${statSync(join(out, file)).size} B (${gzipSync(body).length} B gzipped)`;
});
if (!process.argv.includes("--quiet")) console.log(`console built in ${out}: ${sizes.join(", ")}`);
