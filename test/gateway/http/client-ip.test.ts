/**
 * The per-IP limit behind proxies: the client is the right-most X-Forwarded-For hop that is not
 * a trusted proxy. The test plays the proxy (its socket is the gateway's peer) and appends the
 * client's real address, as an ingress does; whatever the client wrote stays on the left.
 */
import { clientIpResolver } from "../../../gateway/src/http/client-ip";
import { validateConfig } from "../../../gateway/src/config/validate";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { chat, startTrafficGateway, type GatewayInput } from "../traffic/http-helpers";

describe("clientIpResolver", () => {
  it.each<[number | string[], string | undefined, string]>([
    [0, "1.1.1.1", "127.0.0.1"],
    [1, "6.6.6.6, 198.51.100.9", "198.51.100.9"],
    [1, "198.51.100.9", "198.51.100.9"],
    [2, "6.6.6.6, 198.51.100.9, 10.0.0.2", "198.51.100.9"],
    [3, "198.51.100.9, 10.0.0.2", "198.51.100.9"],
    [1, undefined, "127.0.0.1"],
    [["127.0.0.0/8", "10.0.0.0/8"], "6.6.6.6, 198.51.100.9, 10.1.2.3", "198.51.100.9"],
    [["127.0.0.0/8", "fd00::/8"], "6.6.6.6, 2001:db8::5, fd00::1", "2001:db8::5"],
    [["127.0.0.0/8"], "10.0.0.1, 127.0.0.5", "10.0.0.1"],
    [["127.0.0.0/8", "10.0.0.0/8"], "10.0.0.1, 127.0.0.5", "10.0.0.1"],
    [["10.0.0.0/8"], "6.6.6.6", "127.0.0.1"],
    [["::ffff:127.0.0.0/104"], "::ffff:198.51.100.9", "198.51.100.9"],
  ])("trusting %j, X-Forwarded-For %j → %s", (trusted, xff, expected) => {
    expect(clientIpResolver(trusted)("::ffff:127.0.0.1", xff)).toBe(expected);
  });
});

describe("server.trustedProxies validation", () => {
  const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];
  it("accepts a hop count or IPv4/IPv6 CIDRs, and names the field of a bad one", () => {
    expect(validateConfig({ models, server: { trustedProxies: 2 } }).server.trustedProxies).toBe(2);
    expect(validateConfig({ models, server: { trustedProxies: ["10.0.0.0/8", "fd00::/8", "192.0.2.1"] } }).server.trustedProxies).toHaveLength(3);
    expect(() => validateConfig({ models, server: { trustedProxies: ["10.0.0.0/33"] } })).toThrow("server.trustedProxies[0]: prefix must be 0-32");
    expect(() => validateConfig({ models, server: { trustedProxies: ["ingress"] } })).toThrow("server.trustedProxies[0]: must be an IPv4 or IPv6 address or CIDR");
    expect(() => validateConfig({ models, server: { trustProxy: false, trustedProxies: 1 } })).toThrow("server.trustedProxies: contradicts server.trustProxy: false");
  });
});

describe("per-IP limit behind a proxy, over HTTP", () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  beforeEach(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok" });
  });
  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  function start(server: GatewayInput["server"]): Promise<TestGateway> {
    return startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      server,
      auth: { perIp: { requests: 3, windowMs: 60_000 } },
    });
  }
  const via = (xff: string) => chat(gateway.url, { model: "m" }, { "x-forwarded-for": xff });

  it.each<[string, GatewayInput["server"], (client: string, spoof: string) => string]>([
    ["trustProxy: true (one proxy)", { trustProxy: true }, (client, spoof) => `${spoof}, ${client}`],
    ["trustedProxies: 2", { trustedProxies: 2 }, (client, spoof) => `${spoof}, ${client}, 10.0.0.2`],
    ["trustedProxies as CIDRs", { trustedProxies: ["127.0.0.0/8", "10.0.0.0/8", "fd00::/8"] }, (client, spoof) => `${spoof}, ${client}, fd00::7, 10.0.0.2`],
  ])("%s: rotating a spoofed left-most hop does not escape the limit", async (_name, server, chain) => {
    gateway = await start(server);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await via(chain("198.51.100.9", `203.0.113.${i}`))).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    // Another real client behind the same proxy is not affected.
    expect((await via(chain("198.51.100.10", "203.0.113.1"))).status).toBe(200);
  });

  it("a client cannot lock a victim out by writing the victim's address", async () => {
    gateway = await start({ trustProxy: true });
    for (let i = 0; i < 6; i++) await via("192.0.2.50, 198.51.100.9");
    expect((await via("192.0.2.50")).status).toBe(200);
    expect((await via("198.51.100.9")).status).toBe(429);
  });
});
