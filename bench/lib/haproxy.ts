/**
 * The HAProxy configuration the benchmark compares against, modelled on the source article's
 * (docs: bench/README.md): round-robin over three `server` lines with `option httpchk`,
 * `retries 3`, `option redispatch` and a stick-table request-rate limit set far too high to
 * trigger. Differences from the article, all to compare like with like on 127.0.0.1:
 * no TLS, no chroot/daemon/stats socket, logs off, `nbthread` as given (1 by default: one
 * event loop against the gateway's one), and keep-alive to the servers instead of the
 * article's `option http-server-close` (the gateway keeps upstream connections alive too).
 */

export interface HaproxyConfigInput {
  port: number;
  /** Upstream ports; three server lines (the same port repeated when fewer are given). */
  upstreamPorts: number[];
  threads: number;
  /** Requests per 10 s per client address before 429; default 1e9 (never). */
  rateLimit?: number;
}

export function haproxyConfig(input: HaproxyConfigInput): string {
  if (input.upstreamPorts.length === 0) throw new Error("haproxyConfig: no upstream ports");
  const servers = [0, 1, 2].map((i) => input.upstreamPorts[i % input.upstreamPorts.length]);
  const limit = input.rateLimit ?? 1_000_000_000;
  return [
    "global",
    `  nbthread ${input.threads}`,
    "  maxconn 4096",
    "",
    "defaults",
    "  mode http",
    "  option dontlognull",
    "  option forwardfor except 127.0.0.0/8",
    "  option redispatch",
    "  retries 3",
    "  timeout connect 5s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  timeout http-keep-alive 120s",
    "",
    "frontend bench_in",
    `  bind 127.0.0.1:${input.port}`,
    "  stick-table type ip size 100k expire 30s store http_req_rate(10s)",
    "  http-request track-sc0 src",
    `  http-request deny deny_status 429 if { sc_http_req_rate(0) gt ${limit} }`,
    "  default_backend bench_upstreams",
    "",
    "backend bench_upstreams",
    "  balance roundrobin",
    "  option httpchk GET /v1/models",
    "  http-check expect status 200",
    ...servers.map((port, i) => `  server upstream-${i + 1} 127.0.0.1:${port} check inter 2s`),
    "",
  ].join("\n");
}
