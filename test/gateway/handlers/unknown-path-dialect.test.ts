/**
 * An unknown path is answered in its caller's dialect: the Anthropic SDK's calls the gateway does
 * not serve (message batches, Anthropic's legacy completions) got OpenAI's error shape, so the
 * SDK's error carried no Anthropic `type` and its message was lost. OpenAI clients keep OpenAI's.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

describe("an unknown path", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ models: [{ name: "claude", targets: [{ name: "mock", baseUrl: "mock://claude", provider: "anthropic" }] }] });
  });
  afterAll(() => gw.close());

  it("is Anthropic's not_found_error for the Anthropic SDK", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const err = await client.messages.batches.create({ requests: [{ custom_id: "a", params: { model: "claude", max_tokens: 5, messages: [{ role: "user", content: "hi" }] } }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const body = (err as InstanceType<typeof Anthropic.NotFoundError>).error as { type: string; error: { type: string; message: string } };
    expect([body.type, body.error.type]).toEqual(["error", "not_found_error"]);
    expect(body.error.message).toContain("/v1/messages/batches");
  });

  it("stays OpenAI's error for OpenAI clients", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const err = await client.batches.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("not_found");
  });
});
