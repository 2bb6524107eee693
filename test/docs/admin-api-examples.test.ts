/**
 * The shell examples of docs/admin-api.md, run as written (bash and curl) against a real gateway
 * with a real Redis: every call must answer 2xx. Only the addresses change: `$GW` and npm start's
 * admin listener (127.0.0.1:8081) become this gateway's admin listener. An example aimed at the
 * public port, or a stale revision in an If-Match, fails here.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../helpers/redis-server";

const run = promisify(execFile);
const ADMIN_KEY = "sk-admin-docs-examples-0123456789";
const DOC = resolve(__dirname, "../../docs/admin-api.md");
const NPM_START_ADMIN = "http://127.0.0.1:8081";

/** The ```sh blocks of a Markdown file, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]);
}

describe("docs/admin-api.md examples", () => {
  let redis: TestRedis;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    gw = await startTestGateway({
      models: [{ name: "gpt-4o-mini", targets: [{ name: "openai", baseUrl: "mock://openai" }] }],
      server: { adminPort: 0 },
      redis: { url: redis.url, keyPrefix: `docs-examples-${Date.now()}:` },
      auth: { adminKey: ADMIN_KEY, required: false },
      plans: { standard: { requestsPerMinute: 600 }, premium: { requestsPerMinute: 6000 } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await redis?.stop();
  });

  it("every call answers 2xx on the admin listener, in the order the page gives them", async () => {
    const admin = gw.gateway.adminUrl!;
    const blocks = shellBlocks(readFileSync(DOC, "utf8"));
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const script = blocks
      .join("\n")
      .replace(/^GW=.*$/m, `GW=${admin}`)
      .split(NPM_START_ADMIN)
      .join(admin)
      // jq reshapes what the call answered; the call itself is what is checked here.
      .replace(/ \| jq .*$/gm, "");
    expect(script).not.toMatch(/^[^#\n]*127\.0\.0\.1:80\d\d/m);
    // Each curl fails the script on a 4xx/5xx or a refused connection, naming the command.
    const prelude = `set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 10 "$@" || { echo "FAILED: curl $*" >&2; return 1; }; }\n`;
    const { stdout, stderr } = await run("bash", ["-c", prelude + script], { env: { ...process.env, GATEWAY_ADMIN_KEY: ADMIN_KEY }, maxBuffer: 8 << 20 }).catch((err: { stdout: string; stderr: string }) => {
      throw new Error(`${err.stderr}\n${err.stdout.slice(-2000)}`);
    });
    expect(stderr).toBe("");
    expect(stdout).toContain('"object":"gateway.key.deleted"');
    expect(stdout).toContain('"object":"gateway.spend"');
  });
});
