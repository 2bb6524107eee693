/** How good a status is (pure): what badges show with a symbol, a word and a colour. */
export type Tone = "ok" | "warn" | "bad" | "off";

export function targetTone(state: string): Tone {
  if (state === "up") return "ok";
  if (state === "rate_limited" || state === "ejected") return "warn";
  return "bad";
}

export const TARGET_STATE_TEXT: Record<string, string> = { up: "up", down: "down", ejected: "cooling down (ejected)", rate_limited: "cooling down (rate limited)", misconfigured: "misconfigured" };

export function httpTone(status: number): Tone {
  if (status >= 500 || status === 499) return "bad";
  if (status >= 400) return "warn";
  return "ok";
}
