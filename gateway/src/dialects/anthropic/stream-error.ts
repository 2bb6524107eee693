/** The `error` event Anthropic sends mid-stream, which the Anthropic SDKs raise as an APIError. */
import { anthropicErrorJson } from "./errors";

export function anthropicStreamError(message: string, type = "api_error"): Buffer {
  return Buffer.from(`event: error\ndata: ${anthropicErrorJson(type, message)}\n\n`);
}
