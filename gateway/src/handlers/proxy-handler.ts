/**
 * The pipeline for the proxied OpenAI endpoints: authenticate, read and parse the body, pick the
 * model, admit (limits, budget), try the cache, forward with failover, then settle, count and log
 * (request-end.ts). A stream returns from here once it has started; it settles from a callback.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GatewayError } from "../errors";
import { requestIdFrom } from "../http/request-id";
import { readBody, readBodyNow } from "../http/read-body";
import { MAX_JSON_DEPTH, scanJsonBody } from "../http/body-scan";
import { checkGenerationParams } from "../http/generation-params";
import { sendError, sendJson } from "../http/respond";
import type { ProxyRoute } from "../routes";
import type { Admission, AdmissionRequest } from "../traffic/types";
import { refusalReasonOf } from "../traffic/refusal-reason";
import { ERROR_KINDS } from "../errors";
import { RequestTrace } from "../tracing/request-trace";
import { STREAM_STARTED } from "../upstream/forward-outcome";
import { writeBuffered } from "../upstream/client-writer";
import { RequestEnd } from "./request-end";
import type { GatewayRuntime } from "./runtime";
import { admissionBody, responsesTurnFor } from "./responses-turn";
import { shedRequest } from "./shed";
import { lingerOnClose } from "../http/lingering-close";
import { chainAllowed } from "../routing/allowed-chain";

/**
 * The parsed body, and the bytes to forward: the client's own bytes when their keys are plain,
 * else the gateway's serialisation of what it parsed, so the upstream reads what was checked.
 */
function parseBody(raw: Buffer): { body: Record<string, unknown>; forward: Buffer } {
  const scan = scanJsonBody(raw);
  if (scan === "too-deep") throw new GatewayError("GW_ERR_INVALID_REQUEST", `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new GatewayError("GW_ERR_INVALID_JSON", "We could not parse the JSON body of your request.");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new GatewayError("GW_ERR_INVALID_REQUEST", "The request body must be a JSON object.");
  }
  const body = parsed as Record<string, unknown>;
  return { body, forward: scan === "plain" ? raw : Buffer.from(JSON.stringify(body)) };
}

/** Multipart (file uploads) is not proxied; any other type is judged by whether the body parses as JSON. */
function checkContentType(value: string | undefined): void {
  if (value !== undefined && value.startsWith("multipart/")) {
    throw new GatewayError("GW_ERR_UNSUPPORTED_MEDIA_TYPE", "multipart bodies are not supported; send application/json.");
  }
}

export async function handleProxy(rt: GatewayRuntime, route: ProxyRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = performance.now();
  // Overload: shed before any work (no key check, no body); admitted, it counts until `finally`.
  const shed = rt.overload.enter(req.socket);
  if (shed !== null) return shedRequest(rt, route, req, res, shed, startedAt);
  const requestId = requestIdFrom(req.headers["x-request-id"]);
  const headers = ["x-request-id", requestId];
  if (rt.draining) headers.push("connection", "close");
  // What the request's end needs (settle, record, trace): a stream ends from a callback, after this returns.
  const end = new RequestEnd(rt, route, requestId, startedAt, rt.clientIp(req), RequestTrace.from(req.headers, rt.tracer ?? null, `POST ${route.name}`), rt.buffers.hold());
  const { record, trace, bodyHold } = end;
  /** Authentication, limits, budget and the cache look-up, as one span when the trace is recorded. */
  let admissionSpan = rt.traffic.passthrough ? null : trace.child("admission");
  /** The whole body was read (taken at once, node:http may not have marked the request complete yet). */
  let bodyRead = false;
  /** A stream started: its end runs `end.finish()` when it is over, not this function. */
  let streaming = false;
  rt.metrics.inflight.inc();
  try {
    if (req.method !== "POST") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `Method ${req.method} is not allowed on ${route.name}; use POST.`);
    checkContentType(req.headers["content-type"]);
    const traffic = rt.traffic;
    if (!traffic.passthrough) {
      const identity = traffic.authenticate(req.headers, record.clientIp);
      record.identity = identity instanceof Promise ? await identity : identity;
      // Before the body is read: a key known to be over its rate costs no parsing or counting.
      // Such a refusal is held a moment (limits.refusalDelayMs) so a client ignoring Retry-After cannot loop it.
      const held = record.identity ? traffic.precheck?.(record.identity) : undefined;
      if (held) await held;
    }
    // `let`: dropped below once handed to the forwarder, so this frame does not keep them while it
    // waits for the upstream's first byte (up to the target's timeout, every attempt included).
    const bodyLimit = rt.config.server.bodyLimitBytes;
    // node:http emits the request at its headers and parses a body that came in the same read just
    // after: one microtask later it is buffered, and taken without the stream's events (readBodyNow).
    if (req.readableLength === 0) await null;
    let raw: Buffer | null = readBodyNow(req, bodyLimit, bodyHold) ?? (await readBody(req, bodyLimit, bodyHold));
    bodyRead = true;
    let { body, forward: rawBody } = parseBody(raw);
    raw = null; // nor the bytes (see rawBody below)
    const asked = body.model;
    if (typeof asked !== "string" || asked.length === 0) throw new GatewayError("GW_ERR_MODEL_REQUIRED", "You must provide a model parameter.", [], "model");
    record.model = asked;
    const pool = rt.router.resolve(asked);
    if (pool === undefined) throw new GatewayError("GW_ERR_MODEL_NOT_FOUND", `The model \`${asked.slice(0, 200)}\` does not exist or is not served by this gateway.`, [], "model");
    // The same name as the config's string, not the body's: what a stream keeps (its record, its
    // admission) then holds no string of its own.
    const model = pool.name === asked ? pool.name : asked;
    record.model = model;
    checkGenerationParams(body);
    route.check?.(body);
    // The conversation a Responses request continues, loaded now so admission counts all of it.
    const turn = route.name === "responses" ? await responsesTurnFor(rt, body, record.identity, model) : null;
    const stream = body.stream === true;
    record.stream = stream;
    if (stream && !route.streams) throw new GatewayError("GW_ERR_INVALID_REQUEST", `Streaming is not supported on ${route.name}.`, [], "stream");
    // A fallback the key may not use is never tried (nor priced for it).
    const allowed = record.identity?.allowedModels;
    let chain = allowed ? chainAllowed(pool.chain, allowed) : pool.chain;
    let admissionRequest: AdmissionRequest | null = null;
    let cacheKey: string | null = null;
    if (!traffic.passthrough) {
      admissionRequest = { identity: record.identity, route: route.name, model, body: turn ? admissionBody(body, turn) : body, stream, candidates: chain };
      const admitted = traffic.admit(admissionRequest);
      let admission: Admission | null = admitted instanceof Promise ? await admitted : admitted;
      end.settle = admission.settle;
      const servable = admission.servable;
      if (servable) chain = chain.filter((p) => servable.has(p.name));
      const limitHeaders = admission.headers;
      for (let i = 0; i < limitHeaders.length; i++) headers.push(limitHeaders[i]);
      admission = null; // its header pairs are copied: the request's end keeps only settle()
      if (!stream) {
        const looking = traffic.cacheLookup(admissionRequest, rawBody, req.headers);
        const lookup = looking instanceof Promise ? await looking : looking;
        cacheKey = lookup.key;
        if (lookup.hit) {
          record.cache = "HIT";
          record.status = lookup.hit.status;
          headers.push("x-cache", "HIT");
          writeBuffered(res, lookup.hit.status, lookup.hit.contentType, lookup.hit.body, headers, rt.config.server.writeTimeoutMs);
          return;
        }
        if (cacheKey !== null) {
          record.cache = "MISS";
          headers.push("x-cache", "MISS");
        }
      }
    }
    admissionSpan?.end();
    admissionSpan = null;
    const local = route.answerLocally?.(body, chain);
    if (local) {
      record.status = 200;
      sendJson(res, 200, local, headers);
      return;
    }
    const forwarding = rt.forwarder.forward({ chain, route, body, rawBody, stream, requestId, startedAt, headers, countDelivered: end.settle !== null, trace, clientHeaders: req.headers, responses: turn ?? undefined, streamEnd: end }, res);
    body = rawBody = admissionRequest = null!;
    const outcome = await forwarding;
    if (outcome === STREAM_STARTED) {
      streaming = true;
      return;
    }
    end.took(outcome);
    if (cacheKey !== null && outcome.cacheable) rt.traffic.cacheStore(cacheKey, { status: outcome.status, contentType: outcome.cacheable.contentType, body: outcome.cacheable.body });
  } catch (err) {
    // Refused before its body was read (wrong key, over its rate): close rather than receive and
    // discard the body to keep the connection, so an abusive client's big bodies cost nothing.
    // The close lingers (http/lingering-close.ts): a client still sending its body reads this answer.
    const unread = !req.complete && !bodyRead;
    if (unread && !headers.includes("connection")) headers.push("connection", "close");
    if (unread) lingerOnClose(req.socket);
    const clientClosed = (err as { code?: string }).code === "GW_CLIENT_CLOSED";
    record.status = clientClosed ? 499 : sendError(res, err, headers, route.dialect);
    record.errorCode = clientClosed ? "client_closed" : err instanceof GatewayError ? ERROR_KINDS[err.code].openaiCode : "internal_error";
    record.refusal = refusalReasonOf(err);
    // Refused after its body was read but before admission (unknown model, bad field): still a
    // request of the key's rate, or a key could loop large invalid bodies without ever being held.
    if (bodyRead && end.settle === null && record.identity && record.refusal === undefined && !clientClosed && record.status < 500) rt.traffic.countRefused?.(record.identity);
    const attempts = (err as { attempts?: unknown }).attempts;
    if (typeof attempts === "number") record.attempts = attempts;
    if (err instanceof GatewayError) record.upstreamRequestId = err.headers.find(([name]) => name === "x-upstream-request-id")?.[1] ?? null;
    admissionSpan?.fail(err instanceof GatewayError ? err.code : "error").end();
    if (record.status >= 500 && !(err instanceof GatewayError)) rt.logger.error({ reqId: requestId, err }, "request failed");
  } finally {
    if (!streaming) end.finish();
  }
}
