/**
 * The admin listener (`server.adminPort`) is reached directly (Prometheus, `kubectl
 * port-forward`, an internal network), never through the ingress that `server.trustProxy`
 * describes: there the right-most X-Forwarded-For entry is whatever the client wrote. A guesser
 * that rotates that header must not get a fresh allowance of admin-key failures per request;
 * only proxies listed by address (`server.trustedProxies`) are believed on that listener.
 */
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const ADMIN_KEY = "sk-admin-client-ip-0123456789abcdef";
const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];

describe("client address on the admin listener", () => {
  let gw: TestGateway | null = null;
  afterEach(async () => {
    await gw?.close();
    gw = null;
  });

  async function start(server: Record<string, unknown>): Promise<string> {
    gw = await startTestGateway({ models, server: { adminPort: 0, ...server }, auth: { adminKey: ADMIN_KEY, required: false, adminThrottle: { failures: 3, windowMs: 600_000 } } });
    return gw.gateway.adminUrl!;
  }

  const guess = (base: string, path: string, i: number, forwardedFor: string): Promise<number> =>
    path === "/ui/api/login"
      ? fetch(base + path, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor }, body: JSON.stringify({ admin_key: `wrong-guess-${i}-0123456789` }) }).then(async (r) => (await r.text(), r.status))
      : fetch(base + path, { headers: { authorization: `Bearer wrong-guess-${i}-0123456789`, "x-forwarded-for": forwardedFor } }).then(async (r) => (await r.text(), r.status));

  it.each(["/admin/keys", "/ui/api/login"])("with trustProxy, a rotated X-Forwarded-For does not reset the failures allowed on %s", async (path) => {
    const admin = await start({ trustProxy: true });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push(await guess(admin, path, i, `203.0.113.${i + 1}`));
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
    // The failures are logged under the address that really connected.
    const failed = gw!.logs().filter((l) => l.event === "admin_auth_failed");
    expect(failed.map((l) => l.clientIp)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1"]);
  });

  it("a proxy listed by address in trustedProxies is still believed on the admin listener", async () => {
    const admin = await start({ trustedProxies: ["127.0.0.1/32"] });
    // Each client behind the trusted proxy has its own allowance.
    for (let client = 1; client <= 3; client++) {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(await guess(admin, "/admin/keys", i, `198.51.100.${client}`));
      expect(statuses).toEqual([401, 401, 401, 429]);
    }
    const failed = gw!.logs().filter((l) => l.event === "admin_auth_failed");
    expect(new Set(failed.map((l) => l.clientIp))).toEqual(new Set(["198.51.100.1", "198.51.100.2", "198.51.100.3"]));
  });

  it("the public port still reads X-Forwarded-For as trustProxy says (the ingress is in front of it)", async () => {
    await start({ trustProxy: true });
    const logs = () => gw!.logs().filter((l) => l.msg === "request" || l.clientIp !== undefined);
    const res = await fetch(`${gw!.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.44" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(200);
    await res.text();
    await new Promise((r) => setTimeout(r, 50));
    expect(logs().some((l) => l.clientIp === "192.0.2.44")).toBe(true);
  });
});
