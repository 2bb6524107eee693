/**
 * Per-chunk cost of the SSE relay's own work (bench:micro): what pipeStream does to every
 * upstream chunk before res.write (the pass-through translator's usage filter, delivered-text
 * count, key redaction), in-process, for the shapes streams arrive in: a whole short stream in
 * two reads (the sse-64 case), and one event per read (long streams, events apart). The events
 * are OpenAI's own shape with `stream_options.include_usage`: `"usage":null` in every chunk.
 */
import { openaiToOpenai } from "../../gateway/src/translate/openai-to-openai";
import { compileSecret, StreamRedactor } from "../../gateway/src/upstream/redact";

/** An OpenAI chat stream as the upstream sends it when asked for usage: role, `words` content events, finish, usage, [DONE]. */
export function openaiStreamEvents(words: number): Buffer[] {
  const base = { id: "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012", object: "chat.completion.chunk", created: 1_732_900_000, model: "gpt-4o-mini-2024-07-18", service_tier: "default", system_fingerprint: "fp_0ba0d124f1" };
  const event = (choices: unknown[], usage: unknown) => Buffer.from(`data: ${JSON.stringify({ ...base, choices, usage })}\n\n`);
  const out = [event([{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }], null)];
  for (let i = 0; i < words; i++) out.push(event([{ index: 0, delta: { content: ` word${i}` }, logprobs: null, finish_reason: null }], null));
  out.push(event([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], null));
  out.push(event([], { prompt_tokens: 19, completion_tokens: words, total_tokens: 19 + words, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } }));
  out.push(Buffer.from("data: [DONE]\n\n"));
  return out;
}

const SECRET = [compileSecret("sk-upstream-0123456789abcdef0123456789abcdef")];

/** Relays `chunks` the way pipeStream does (translator, then redactor); returns the bytes out, so nothing is optimised away. */
export function relayOnce(chunks: readonly Buffer[], countDelivered: boolean): number {
  const translator = openaiToOpenai.create({ route: "chat.completions", body: { model: "m", stream: true }, rawBody: Buffer.alloc(0), stream: true, headers: {}, countDelivered });
  const redactor = new StreamRedactor(SECRET);
  let bytes = 0;
  for (const chunk of chunks) bytes += redactor.push(translator.responseBody(chunk, false).body).length;
  bytes += redactor.push(translator.responseBody(Buffer.alloc(0), true).body).length + redactor.flush().length;
  return bytes + (translator.deliveredTokens() ?? 0);
}

/** The cases: [label, chunks, events in the stream]. */
export function relayCases(): { label: string; chunks: Buffer[]; events: number }[] {
  const short = openaiStreamEvents(20);
  const long = openaiStreamEvents(200);
  return [
    { label: "24-event stream in 2 reads (first event, then the rest)", chunks: [short[0], Buffer.concat(short.slice(1))], events: short.length },
    { label: "204-event stream, one event per read", chunks: long, events: long.length },
  ];
}

export function timeRelay(time: (label: string, iterations: number, fn: () => unknown) => { label: string; us: number }): { label: string; us: number }[] {
  const rows: { label: string; us: number }[] = [];
  for (const { label, chunks, events } of relayCases()) {
    for (const count of [false, true]) {
      const iterations = events > 100 ? 2_000 : 20_000;
      const row = time(`SSE relay per event, ${label}${count ? ", delivered text counted" : ""}`, iterations, () => relayOnce(chunks, count));
      rows.push({ label: row.label, us: row.us / events });
    }
  }
  return rows;
}
