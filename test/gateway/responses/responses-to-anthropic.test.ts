/**
 * /v1/responses on a native Anthropic target (the built-in mock speaking the Messages API),
 * translated Responses → Chat → Messages and back, with the openai SDK as the client.
 */
import OpenAI from "openai";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

describe("openai SDK responses on a provider: anthropic target", () => {
  let gw: TestGateway;
  let client: OpenAI;
  beforeAll(async () => {
    gw = await startTestGateway({ models: [{ name: "claude", targets: [{ name: "anthropic", baseUrl: "mock://anthropic", provider: "anthropic", mock: { tokens: 4 } }] }] });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(() => gw.close());

  const answer = Array.from({ length: 4 }, (_, i) => mockToken(i)).join("");

  it("answers, streams and continues a conversation", async () => {
    const first = await client.responses.create({ model: "claude", instructions: "Be brief.", input: "Hello" });
    expect(first.status).toBe("completed");
    expect(first.output_text.trim()).toBe(answer.trim());
    expect(first.usage!.output_tokens).toBe(4);

    const stream = await client.responses.create({ model: "claude", input: "And again?", previous_response_id: first.id, stream: true });
    let text = "";
    let completed: OpenAI.Responses.Response | null = null;
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completed = event.response;
    }
    expect(text.trim()).toBe(answer.trim());
    expect(completed!.previous_response_id).toBe(first.id);
    expect(completed!.usage!.output_tokens).toBe(4);
    const log = gw.logs().filter((l) => l.msg === "request" && l.route === "responses").at(-1);
    expect(log).toMatchObject({ model: "claude", target: "anthropic", status: 200, completionTokens: 4 });
  });
});
