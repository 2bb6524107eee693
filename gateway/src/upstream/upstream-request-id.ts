/**
 * The provider's id for an answer, from the header it uses (OpenAI `x-request-id`, Anthropic
 * `request-id`, Azure `apim-request-id`, …), returned to the client as `x-upstream-request-id`
 * and logged, so a support ticket can name the upstream call. Only sane values are kept: it
 * becomes a response header.
 */
const NAMES = ["x-request-id", "request-id", "openai-request-id", "apim-request-id", "x-amzn-requestid", "x-goog-request-id"] as const;
const SANE = /^[A-Za-z0-9._:/+=-]{1,200}$/;

export function upstreamRequestIdOf(headers: Record<string, string | string[] | undefined>): string | null {
  for (const name of NAMES) {
    const value = headers[name];
    if (value === undefined) continue;
    return typeof value === "string" && SANE.test(value) ? value : null;
  }
  return null;
}
