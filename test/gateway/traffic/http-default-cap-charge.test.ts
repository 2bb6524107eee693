/**
 * A completion is billed in full when the client set no completion limit. Settlement does not
 * believe a completion count above the request's limit (an upstream stops there), but it used
 * that rule with the gateway's own default (`limits.defaultMaxTokens`, 1024), which the upstream
 * never saw: a client leaving out `max_tokens` and asking for a long answer paid for 1,024 tokens
 * of a 5,000-token answer (and a Chat client of an Anthropic target, sent 4,096, the same).
 * The count is held to a limit the upstream was given, never to the gateway's default.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { mockChatCompletion } from "../../../gateway/src/upstream/mock-responses";
import { chat, startTrafficGateway } from "./http-helpers";

const KEY = "sk-default-cap-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };
/** The upstream's report: a long answer. */
const LONG = 5_000;

const event = (payload: Record<string, unknown>) => `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", model: "m", ...payload })}\n\n`;

describe("a long completion with no max_tokens", () => {
  let upstream: MockUpstream;
  let anthropic: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await MockUpstream.start("up", (request) => {
      if ((request.json as { stream?: boolean } | null)?.stream === true) {
        return { kind: "sse", chunks: [event({ choices: [{ index: 0, delta: { content: "long" }, finish_reason: "stop" }] }), event({ choices: [], usage: { prompt_tokens: 5, completion_tokens: LONG, total_tokens: 5 + LONG } }), "data: [DONE]\n\n"] };
      }
      return { kind: "garbage", contentType: "application/json", body: JSON.stringify({ ...mockChatCompletion({ model: "m" }, 3, "up"), usage: { prompt_tokens: 5, completion_tokens: LONG, total_tokens: 5 + LONG } }) };
    });
    anthropic = await MockAnthropic.start({ kind: "message", message: { id: "msg_1", type: "message", role: "assistant", model: "c", content: [{ type: "text", text: "long" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 5, output_tokens: LONG } } });
    gw = await startTrafficGateway({
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "claude", targets: [{ name: "anthropic", baseUrl: anthropic.baseUrl, provider: "anthropic" }] },
      ],
      limits: { store: "memory" },
      // $0.001 an output token, prompt free, on a large budget.
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 1_000 }, claude: { inputPerMTok: 0, outputPerMTok: 1_000 } },
      keys: [{ name: "payer", key: KEY, limits: { monthlyBudgetUsd: 1_000 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
    await anthropic.stop();
  });

  const lastLine = () => gw.logs().filter((l) => l.msg === "request").at(-1)!;

  it.each([
    ["chat, plain", "m", false],
    ["chat, streamed", "m", true],
    ["chat to an Anthropic target (sent 4,096 by the translator)", "claude", false],
  ])("charges every token the upstream reports (%s)", async (_name, model, stream) => {
    const res = await chat(gw.url, { model, stream }, AUTH);
    expect(res.status).toBe(200);
    await res.text();
    const line = lastLine();
    expect([line.completionTokens, line.costUsd, line.costEstimated]).toEqual([LONG, LONG * 0.001, false]);
  });

  it("still holds a count to the max_tokens the client set", async () => {
    const res = await chat(gw.url, { model: "m", max_tokens: 100 }, AUTH);
    expect(res.status).toBe(200);
    await res.text();
    expect([lastLine().completionTokens, lastLine().costUsd]).toEqual([100, 0.1]);
  });
});
