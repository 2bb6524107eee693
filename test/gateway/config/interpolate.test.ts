/** `${ENV}` interpolation: secrets come from the environment, with the field path on a miss. */
import { interpolateEnv } from "../../../gateway/src/config/interpolate";

describe("interpolateEnv", () => {
  it("replaces placeholders anywhere in strings, nested in objects and arrays", () => {
    const env = { KEY: "sk-123", HOST: "api.example.com" };
    const out = interpolateEnv({ models: [{ targets: [{ apiKey: "${KEY}", baseUrl: "https://${HOST}/v1", weight: 2 }] }] }, env);
    expect(out).toEqual({ models: [{ targets: [{ apiKey: "sk-123", baseUrl: "https://api.example.com/v1", weight: 2 }] }] });
  });

  it("uses the default after :- when the variable is unset or empty", () => {
    expect(interpolateEnv("${NOPE:-fallback}", {})).toBe("fallback");
    expect(interpolateEnv("${EMPTY:-fallback}", { EMPTY: "" })).toBe("fallback");
    expect(interpolateEnv("${EMPTY:-}", {})).toBe("");
    expect(interpolateEnv("${SET:-fallback}", { SET: "value" })).toBe("value");
  });

  it("reports each missing variable with the field path it was needed at", () => {
    const missing: string[] = [];
    interpolateEnv({ models: [{ targets: [{ apiKey: "${OPENAI_KEY}" }] }], auth: { adminKey: "${ADMIN}" } }, {}, "", missing);
    expect(missing).toEqual(["models[0].targets[0].apiKey: environment variable OPENAI_KEY is not set", "auth.adminKey: environment variable ADMIN is not set"]);
  });

  it("treats an empty variable without a default as missing", () => {
    const missing: string[] = [];
    interpolateEnv("${EMPTY}", { EMPTY: "" }, "", missing);
    expect(missing).toEqual(["(root): environment variable EMPTY is not set"]);
  });

  it("does not interpolate twice: a value that looks like a placeholder stays literal", () => {
    expect(interpolateEnv("${A}", { A: "${B}", B: "secret" })).toBe("${B}");
  });

  it("leaves non-strings and text without placeholders alone", () => {
    expect(interpolateEnv({ n: 1, b: true, z: null, s: "$HOME and {x}" }, {})).toEqual({ n: 1, b: true, z: null, s: "$HOME and {x}" });
  });
});
