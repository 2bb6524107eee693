/**
 * The load for bench/request-alloc.ts, in a process of its own so that the measured process
 * allocates only for the proxy: `--requests` chat completions (JSON or SSE) over `--connections`
 * keep-alive connections, each answer read to its end. Prints one JSON line (bench/lib/load.ts's
 * LoadResult) and exits.
 *
 *   node dist/bench/alloc-client.js --port P --requests N --connections C [--sse] [--key K]
 */
import { MOCK_MODEL } from "./mock-upstream";
import { runUndici } from "./lib/load";

const MESSAGES = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Say hello to request {n} of the benchmark in one short sentence." },
];

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : fallback);
  const sse = argv.includes("--sse");
  const key = get("--key", "");
  const body = JSON.stringify({ model: MOCK_MODEL, messages: MESSAGES, max_tokens: 64, ...(sse ? { stream: true } : {}) });
  const result = await runUndici({
    url: `http://127.0.0.1:${get("--port", "0")}/v1/chat/completions`,
    connections: Number(get("--connections", "8")),
    requests: Number(get("--requests", "1000")),
    durationSec: 600,
    timeoutSec: 30,
    body,
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    workDir: "",
  });
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
