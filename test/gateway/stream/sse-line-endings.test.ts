/**
 * An upstream whose SSE events end with CR only (`\r\r`, valid per the SSE spec): each event
 * reaches the client as it comes (not held to the end of the stream), the usage event the
 * gateway asked for is read (and counted) and removed from what the client sees.
 */
import { chat, metricValue, scrape } from "../../helpers/http-client";
import { eventually } from "../../helpers/gateway-harness";
import { serverFixture } from "../../helpers/fixture";

const event = (data: unknown) => `data: ${JSON.stringify(data)}\r\r`;
const delta = (content: string) => event({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] });

describe("SSE with CR-only line endings", () => {
  const servers = serverFixture();

  it("delivers events as they come and counts their usage", async () => {
    const cr = await servers.upstream("cr", {
      kind: "sse",
      chunks: [delta("Hel"), delta("lo"), event({ id: "c", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 } }), "data: [DONE]\r\r"],
      holdAt: 2,
    });
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: cr.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m", stream: true }, { "x-request-id": "cr-only" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const pump = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })();
    // The upstream holds the rest: both events must already be at the client.
    await eventually(() => text.includes('"lo"'), 10_000);
    expect(cr.eventsSent).toBe(2);
    cr.releaseStreams();
    await pump;
    expect(text).toBe(delta("Hel") + delta("lo") + "data: [DONE]\r\r");
    const logged = servers.gw.logs().find((l) => l.msg === "request" && l.reqId === "cr-only");
    expect(logged).toMatchObject({ status: 200, promptTokens: 11, completionTokens: 2 });
    expect(metricValue(await scrape(servers.gw.url), "aigw_tokens_total", { model: "m", kind: "completion" })).toBe(2);
  });
});
