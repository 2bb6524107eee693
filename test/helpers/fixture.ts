/**
 * Per-test servers with automatic cleanup: mock upstreams and a gateway started through the
 * fixture are stopped after each test of the describe block that created it.
 */
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { startTestGateway, type TestGateway } from "./gateway-harness";
import { MockUpstream } from "./mock-upstream";

export interface ServerFixture {
  /** The gateway of the running test (throws when none was started). */
  readonly gw: TestGateway;
  /** Upstreams started in the running test, in order. */
  readonly upstreams: MockUpstream[];
  upstream(name: string, behavior?: MockUpstream["behavior"]): Promise<MockUpstream>;
  gateway(models: GatewayConfigInput["models"], extra?: Partial<GatewayConfigInput>): Promise<TestGateway>;
}

export function serverFixture(): ServerFixture {
  let upstreams: MockUpstream[] = [];
  let current: TestGateway | null = null;
  afterEach(async () => {
    await current?.close();
    await Promise.all(upstreams.map((u) => u.stop()));
    upstreams = [];
    current = null;
  });
  return {
    get gw() {
      if (current === null) throw new Error("no gateway started in this test");
      return current;
    },
    get upstreams() {
      return upstreams;
    },
    async upstream(name, behavior) {
      const u = await MockUpstream.start(name, behavior);
      upstreams.push(u);
      return u;
    },
    async gateway(models, extra = {}) {
      current = await startTestGateway({ models, ...extra });
      return current;
    },
  };
}
