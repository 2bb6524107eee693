/**
 * The response cache keys on the request headers that change the answer: the same Messages body
 * with an `anthropic-beta` feature (longer outputs, a larger context, other tools) is a different
 * request. Before, it was answered from the entry of the request without the header. The
 * Anthropic SDK against a real mock Anthropic server, the cache on the memory store.
 */
import Anthropic from "@anthropic-ai/sdk";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { answerHeadersVariant } from "../../../gateway/src/cache/cache-key";

describe("the response cache and answer-changing headers", () => {
  let claude: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    claude = await MockAnthropic.start({ kind: "ok", tokens: 6 });
    gw = await startTestGateway({
      models: [{ name: "claude", targets: [{ name: "anthropic", baseUrl: claude.baseUrl, provider: "anthropic" }] }],
      cache: { enabled: true },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await claude?.stop();
  });

  const ask = (beta?: string) =>
    new Anthropic({ baseURL: gw.url, apiKey: "sk-any", maxRetries: 0, defaultHeaders: { "x-gateway-cache": "on", ...(beta ? { "anthropic-beta": beta } : {}) } }).messages.create({
      model: "claude",
      max_tokens: 16,
      messages: [{ role: "user", content: "the same question" }],
    });

  it("answers a request with an anthropic-beta feature from its own entry, not the plain request's", async () => {
    await ask();
    await ask();
    expect(claude.messages.length).toBe(1); // the second was a hit
    await ask("output-128k-2025-02-19");
    expect(claude.messages.length).toBe(2);
    expect(claude.messages[1].headers["anthropic-beta"]).toBe("output-128k-2025-02-19");
    await ask("output-128k-2025-02-19");
    expect(claude.messages.length).toBe(2);
    await ask("context-1m-2025-08-07,output-128k-2025-02-19");
    expect(claude.messages.length).toBe(3);
  });

  it("normalises a beta list: order, case and spaces do not make a new entry", () => {
    expect(answerHeadersVariant({ "anthropic-beta": "b, a" })).toBe(answerHeadersVariant({ "anthropic-beta": "A,b" }));
    expect(answerHeadersVariant({})).toBe("");
  });
});
