import { render } from "ink";
import { createElement } from "react";
import { ChatApp } from "./chat-app.tsx";
import type { ChatSession } from "./chat-session.ts";

export interface TuiOptions {
  banner?: string;
  fps?: number;
}

/** Run the ink chat app on this terminal until the user quits; a reply still running is aborted. */
export async function runTui(session: ChatSession, opts: TuiOptions = {}): Promise<void> {
  const fps = opts.fps ?? 30;
  const app = render(createElement(ChatApp, { session, banner: opts.banner, fps }), { exitOnCtrlC: false, maxFps: fps });
  try {
    await app.waitUntilExit();
  } finally {
    session.stop();
  }
}

/** The transcript's first line. */
export function bannerFor(session: ChatSession, extra: string[] = []): string {
  const b = session.backend;
  return [`llm chat · ${b.model} (${b.where})`, `context ${b.maxContext ?? "n/a"} tokens`, ...extra, "/help for commands, Ctrl+C twice or /exit to quit"].join(" · ");
}
