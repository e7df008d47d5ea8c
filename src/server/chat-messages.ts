import { badRequest } from "./errors.ts";

/** A chat message as handed to the template: content flattened to text. */
export interface ChatMessage {
  role: string;
  content: string;
  name?: string;
}

const ROLES = ["system", "developer", "user", "assistant", "tool"];

/** Text of a message's content: a string, or a list of {type: "text", text} parts (other parts are refused). */
function contentText(content: unknown, at: string): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (!Array.isArray(content)) throw badRequest(`${at}.content must be a string or an array of content parts`, at + ".content", "invalid_type");
  return content.map((part, j) => {
    const p = part as { type?: unknown; text?: unknown } | null;
    if (typeof p !== "object" || p === null || p.type !== "text" || typeof p.text !== "string") {
      throw badRequest(`${at}.content[${j}]: only {"type": "text", "text": ...} parts are supported`, `${at}.content`, "invalid_value");
    }
    return p.text;
  }).join("");
}

/** Validate `messages` (a non-empty list of {role, content}) and flatten their content to text. */
export function parseMessages(v: unknown): ChatMessage[] {
  if (v === undefined || v === null) throw badRequest("'messages' is required", "messages", "missing_required_parameter");
  if (!Array.isArray(v)) throw badRequest("Invalid type for 'messages': expected an array of messages", "messages", "invalid_type");
  if (v.length === 0) throw badRequest("'messages' must contain at least one message", "messages", "invalid_value");
  return v.map((m, i) => {
    const at = `messages[${i}]`;
    if (typeof m !== "object" || m === null || Array.isArray(m)) throw badRequest(`${at} must be an object`, "messages", "invalid_type");
    const { role, content, name } = m as { role?: unknown; content?: unknown; name?: unknown };
    if (typeof role !== "string" || !ROLES.includes(role)) {
      throw badRequest(`${at}.role must be one of ${ROLES.join(", ")}; got ${JSON.stringify(role)}`, `${at}.role`, "invalid_value");
    }
    if (role !== "assistant" && (content === null || content === undefined)) throw badRequest(`${at}.content is required`, `${at}.content`, "missing_required_parameter");
    const msg: ChatMessage = { role, content: contentText(content, at) };
    if (typeof name === "string") msg.name = name;
    return msg;
  });
}
