/**
 * gateway/Dockerfile, read statically (no Docker engine here): multi-stage, production
 * dependencies only in the runtime image, a numeric non-root user, SIGTERM reaching node, the
 * start command matching package.json, and a build context (.dockerignore) that lets in exactly
 * what the COPY lines need and nothing secret or bulky.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NODE_HEAP_FLAGS } from "../../gateway/src/heap";
import { ROOT } from "../helpers/pulumi-mocks";

const dockerfile = readFileSync(join(ROOT, "gateway", "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string>; dependencies: Record<string, string> };

interface Stage {
  name: string;
  lines: string[];
}

/** Instructions (continuations joined, comments dropped) grouped by stage. */
function stages(): Stage[] {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const out: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ name: from[1] ?? String(out.length), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

test("multi-stage: build, production dependencies, runtime", () => {
  expect(stages().map((s) => s.name)).toEqual(["build", "deps", "runtime"]);
  expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
});

test("the runtime image gets compiled JS and production-only node_modules", () => {
  const [build, deps, runtime] = stages();
  expect(build.lines).toContain("RUN npm run build:gateway");
  expect(pkg.scripts["build:gateway"]).toBe("tsc -p tsconfig.gateway.json");
  expect(deps.lines.some((l) => /^RUN .*npm ci --omit=dev/.test(l))).toBe(true);
  expect(runtime.lines).toContain("COPY --from=deps /app/node_modules ./node_modules");
  expect(runtime.lines).toContain("COPY --from=build /app/dist/gateway ./dist/gateway");
  // Nothing from the build stage's full node_modules (TypeScript, Pulumi, jest).
  expect(runtime.lines.filter((l) => l.startsWith("COPY --from=build")).join("\n")).not.toMatch(/node_modules/);
  expect(runtime.lines).toContain("ENV NODE_ENV=production");
  // `docker run` without a config file must be reachable through the port mapping.
  expect(runtime.lines).toContain("ENV HOST=0.0.0.0");
});

test("runs as a numeric non-root user, with tini passing SIGTERM to node itself", () => {
  const runtime = stages()[2].lines;
  expect(runtime).toContain("USER 1000:1000");
  expect(runtime.indexOf("USER 1000:1000")).toBeGreaterThan(runtime.findIndex((l) => l.startsWith("RUN apt-get")));
  expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
  const cmd = runtime.find((l) => l.startsWith("CMD"))!;
  const argv = JSON.parse(cmd.slice(3)) as string[];
  // Exec form, node directly (npm would swallow the signal); the same entry point as `npm start`.
  expect(argv).toEqual(["node", ...NODE_HEAP_FLAGS, "dist/gateway/src/main.js"]);
  // `npm start` execs the same command line, so signals reach node (test/gateway/npm-start.test.ts).
  expect(pkg.scripts.start).toBe(`exec ${argv.join(" ")}`);
  expect(existsSync(join(ROOT, "gateway", "src", "main.ts"))).toBe(true);
});

test(".dockerignore admits exactly what the COPY lines read", () => {
  const rules = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  expect(rules[0]).toBe("*");
  const admitted = rules.filter((r) => r.startsWith("!")).map((r) => r.slice(1));
  const copied = stages()
    .flatMap((s) => s.lines)
    .filter((l) => l.startsWith("COPY") && !l.includes("--from="))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  expect([...new Set(copied)].sort()).toEqual([...admitted].sort());
  for (const path of admitted) expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true });
  // So node_modules, dist, .git, infra, tests and Pulumi stack files (with encrypted secrets) stay out.
  for (const kept of ["node_modules", "dist", ".git", "infra", "test", "Pulumi.prod.yaml"]) expect(admitted).not.toContain(kept);
});
