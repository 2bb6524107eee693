/** Message content (text, images, tool results) between Anthropic's blocks and OpenAI's parts. */
import { GatewayError } from "../../errors";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

/** The text of a string or a list of text blocks/parts (other kinds skipped). */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((block): block is Json => isObject(block) && typeof block.text === "string")
    .map((block) => block.text as string)
    .join("\n");
}

/** An Anthropic image block as an OpenAI image part (base64 as a data: URL). */
export function imageToOpenai(block: Json, where: string): Json {
  const source = isObject(block.source) ? block.source : null;
  if (source?.type === "base64" && typeof source.media_type === "string" && typeof source.data === "string") {
    return { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === "url" && typeof source.url === "string") return { type: "image_url", image_url: { url: source.url } };
  throw new GatewayError("GW_ERR_INVALID_REQUEST", `${where}: an image needs a base64 or url source.`, [], where);
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** An OpenAI image part as an Anthropic image block. */
export function imageToAnthropic(part: Json, where: string): Json {
  const url = isObject(part.image_url) ? part.image_url.url : undefined;
  if (typeof url !== "string") throw new GatewayError("GW_ERR_INVALID_REQUEST", `${where}: image_url.url must be a string.`, [], where);
  const match = DATA_URL.exec(url);
  if (match) return { type: "image", source: { type: "base64", media_type: match[1], data: match[2] } };
  return { type: "image", source: { type: "url", url } };
}

/** Anthropic user content blocks as OpenAI user parts (text and images; tool results are taken apart by the caller). */
export function userBlocksToOpenai(blocks: Json[], where: string): Json[] {
  return blocks.map((block, i) => {
    if (block.type === "text") return { type: "text", text: String(block.text ?? "") };
    if (block.type === "image") return imageToOpenai(block, `${where}.${i}`);
    throw new GatewayError("GW_ERR_INVALID_REQUEST", `${where}.${i}: '${String(block.type)}' blocks are only available on Anthropic targets.`, [], `${where}.${i}`);
  });
}

/** OpenAI user content (string or parts) as Anthropic content. */
export function userContentToAnthropic(content: unknown, where: string): string | Json[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part, i) => {
    if (!isObject(part)) throw new GatewayError("GW_ERR_INVALID_REQUEST", `${where}[${i}]: a content part must be an object.`, [], where);
    if (part.type === "text") return { type: "text", text: String(part.text ?? "") };
    if (part.type === "image_url") return imageToAnthropic(part, `${where}[${i}]`);
    throw new GatewayError("GW_ERR_INVALID_REQUEST", `${where}[${i}]: '${String(part.type)}' parts cannot be sent to this model.`, [], where);
  });
}
