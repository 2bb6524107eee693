/**
 * `auth.adminKey` without `redis` used to start with client authentication off and no warning:
 * a config that looks locked down served anonymous requests. It is refused at validation (so
 * at `pulumi preview` too) unless `auth.required` states the intent, or config keys exist.
 */
import { validateConfig } from "../../../gateway/src/config/validate";
import { spawnGateway, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { chat } from "./http-helpers";

const ADMIN_KEY = "sk-admin-no-redis-0123456789";
const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];

describe("an admin key without Redis", () => {
  let gateway: TestGateway | null = null;
  afterEach(async () => {
    await gateway?.close();
    gateway = null;
  });

  it("is refused at validation with the field path and the way out", () => {
    expect(() => validateConfig({ models, auth: { adminKey: ADMIN_KEY } })).toThrow(
      /auth\.adminKey: without a redis section there are no runtime keys, so client authentication would stay off and anonymous requests would be served; add a redis section, or set auth\.required/,
    );
  });

  it("stops the process at start, exit code 1, without printing the admin key", async () => {
    await expect(spawnGateway({ server: { host: "127.0.0.1", port: 0 }, models, auth: { adminKey: ADMIN_KEY } })).rejects.toThrow(/gateway exited with 1:[\s\S]*auth\.adminKey: without a redis section/);
    await expect(spawnGateway({ server: { host: "127.0.0.1", port: 0 }, models, auth: { adminKey: ADMIN_KEY } })).rejects.not.toThrow(ADMIN_KEY);
  });

  it("with auth.required: true, anonymous requests get 401 over HTTP", async () => {
    gateway = await startTestGateway({ models, auth: { adminKey: ADMIN_KEY, required: true } });
    const res = await chat(gateway.url, { model: "m" });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
  });

  it("with auth.required: false, anonymous requests are served, as stated", async () => {
    gateway = await startTestGateway({ models, auth: { adminKey: ADMIN_KEY, required: false } });
    expect((await chat(gateway.url, { model: "m" })).status).toBe(200);
  });
});
