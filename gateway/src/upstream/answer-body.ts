/** What the forwarder needs to judge an upstream's buffered answer: its headers' values and whether its body is JSON. */

/** The first value of a header. */
export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An upstream error answer worth passing through: 4xx with a JSON body (OpenAI's error format), not an HTML page. */
export function isApiErrorBody(headers: Record<string, string | string[] | undefined>, body: Buffer | null): boolean {
  if (body === null) return false;
  const type = header(headers["content-type"]);
  if (type !== undefined) return type.includes("json");
  // No content type: accept what looks like a JSON object.
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte === 0x7b;
  }
  return false;
}

/** A JSON content type, or none (then the body is judged by whether it parses). */
export function isJsonType(headers: Record<string, string | string[] | undefined>): boolean {
  const type = header(headers["content-type"]);
  return type === undefined || type.includes("json");
}

/** A JSON object body is the only good non-streaming answer; null for anything else. */
export function parseJsonObject(body: Buffer, headers: Record<string, string | string[] | undefined>): Record<string, unknown> | null {
  if (!isJsonType(headers)) return null;
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
