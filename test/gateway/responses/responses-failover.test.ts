/**
 * Misbehaving upstreams behind /v1/responses, with the openai SDK as the client: a target that
 * fails before the first byte fails over (translated and native, streaming and not); a stream
 * cut after its first byte ends with `response.failed` and an `error` event, which the SDK
 * raises, instead of a silently truncated answer.
 */
import OpenAI from "openai";
import { serverFixture } from "../../helpers/fixture";
import type { Behavior } from "../../helpers/mock-upstream";

const fx = serverFixture();

async function gatewayFor(native: boolean, behaviors: Behavior[]) {
  const targets = [];
  for (const [i, behavior] of behaviors.entries()) {
    const up = await fx.upstream(`t${i}`, behavior);
    targets.push({ name: `t${i}`, baseUrl: up.baseUrl, ...(native ? { responsesApi: "native" as const } : {}) });
  }
  const gw = await fx.gateway([{ name: "m", strategy: "round-robin", targets }], { passiveHealth: { failures: 5 } });
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
}

describe.each([["translated", false], ["native", true]])("/v1/responses, %s", (_name, native) => {
  it.each<[string, Behavior]>([
    ["a 503", { kind: "status", status: 503 }],
    ["a reset connection", { kind: "reset" }],
    ["an HTML error page", { kind: "garbage", body: "<html>oops</html>", contentType: "text/html" }],
  ])("fails over after %s before the first byte, non-streaming and streaming", async (_what, broken) => {
    const client = await gatewayFor(native, [broken, { kind: "ok", tokens: 3 }]);
    const { data, response } = await client.responses.create({ model: "m", input: "hi" }).withResponse();
    expect(data.status).toBe("completed");
    expect(response.headers.get("x-gateway-attempts")).toBe("2");
    expect(response.headers.get("x-gateway-target")).toBe("t1");
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe("response.completed");
    expect(types).not.toContain("error");
    expect(fx.upstreams[0].completions.length).toBe(2);
  });

  it("a stream cut after its first byte ends with response.failed and an error event the SDK raises", async () => {
    const client = await gatewayFor(native, [{ kind: "cut-stream", afterEvents: 5 }, { kind: "ok" }]);
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      try {
        for await (const event of stream) seen.push(event.type);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain("interrupted");
    expect(seen[0]).toBe("response.created");
    expect(seen.at(-1)).toBe("response.failed");
    expect(seen).not.toContain("response.completed");
    // Bytes had reached the client: no other target was tried.
    expect(fx.upstreams[1].completions.length).toBe(0);
    const log = fx.gw.logs().find((l) => l.msg === "upstream stream interrupted after the first byte");
    expect(log).toMatchObject({ model: "m", target: "t0" });
  });

  it("a stream that ends cleanly but without its final event is reported failed, not completed", async () => {
    const truncated = native
      ? ['event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_abc","object":"response","created_at":1,"status":"in_progress","model":"m","output":[]}}\n\n', 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hel","logprobs":[]}\n\n']
      : ['data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n'];
    const client = await gatewayFor(native, [{ kind: "sse", chunks: truncated }]);
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true });
    const seen: string[] = [];
    await expect((async () => {
      for await (const event of stream) seen.push(event.type);
    })()).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(seen.at(-1)).toBe("response.failed");
  });
});
