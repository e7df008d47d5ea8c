import { Box, Static, useApp, useInput, useStdout } from "ink";
import { Profiler, useEffect, useMemo, useRef, useState } from "react";
import type { ChatSession } from "./chat-session.ts";
import { executeCommand } from "./commands.ts";
import { FeedItemView, LiveLine } from "./entry-view.tsx";
import { InputLine } from "./input-line.tsx";
import { StaticFeed } from "./static-feed.ts";
import { StatusBar } from "./status-bar.tsx";
import { useSessionView } from "./use-session-view.ts";

export interface ChatAppProps {
  session: ChatSession;
  /** First line of the transcript. */
  banner?: string;
  /** Most renders per second while a reply streams (default 30). */
  fps?: number;
  /** Called after each React commit of the app (tests count renders with it). */
  onCommit?: () => void;
  /** Called once when the user quits (/exit or Ctrl+C twice). */
  onExit?: () => void;
}

/** Two Ctrl+C presses within this many ms (while idle) quit. */
const DOUBLE_CTRL_C_MS = 2000;

/**
 * The chat screen: finished entries and the finished lines of the reply in flight in <Static>
 * (printed once into the scrollback), the reply's current line, the input line with command hints,
 * and the status bar; so a frame stays a few lines high however long the reply. Token deltas are
 * batched to at most `fps` renders a second by useSessionView.
 */
export function ChatApp({ session, banner, fps = 30, onCommit, onExit }: ChatAppProps) {
  useSessionView(session, fps);
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [notice, setNotice] = useState<string | null>(null);
  const lastCtrlC = useRef(-Infinity);
  const prefix = `${session.backend.model} › `;
  const feed = useMemo(() => new StaticFeed(prefix, banner), [session]);

  useEffect(() => void session.refreshStats(true), [session]);
  useEffect(() => session.subscribe((e) => {
    if (e.type !== "exit") return;
    onExit?.();
    exit();
  }), [session]);

  useInput((ch, key) => {
    if (!(key.ctrl && ch === "c")) {
      if (notice !== null && !key.ctrl) setNotice(null);
      return;
    }
    if (session.stop()) {
      lastCtrlC.current = -Infinity;
      setNotice("stopped the reply (Ctrl+C twice to quit)");
      return;
    }
    const now = performance.now();
    if (now - lastCtrlC.current < DOUBLE_CTRL_C_MS) {
      session.requestExit();
      return;
    }
    lastCtrlC.current = now;
    setNotice("Press Ctrl+C again to quit (or /exit)");
  });

  const submit = (text: string) => {
    setNotice(null);
    if (text.startsWith("/")) {
      void executeCommand(session, text).then((r) => {
        if (!session.exitRequested) session.log(r.kind ?? "info", r.text);
      });
    } else if (session.busy) {
      setNotice("a reply is in progress: Ctrl+C stops it (↑ recalls your message)");
    } else {
      void session.send(text);
    }
  };

  const cols = stdout.columns || 80;
  const rows = stdout.rows || 24;
  const maxHints = Math.max(3, Math.min(8, rows - 6));
  // Rendering reads the session and appends what is new to the feed (append-only, idempotent).
  const items = feed.update(session, cols);
  const live = session.live ? feed.liveLine(session) : null;
  const tree = (
    <Box flexDirection="column">
      <Static items={items}>{(item) => <FeedItemView key={item.key} item={item} model={session.backend.model} />}</Static>
      {live ? <LiveLine text={live.text} prefix={live.withPrefix ? prefix : null} /> : null}
      <InputLine session={session} onSubmit={submit} notice={notice} maxHints={maxHints} />
      <StatusBar session={session} />
    </Box>
  );
  return onCommit ? <Profiler id="chat" onRender={onCommit}>{tree}</Profiler> : tree;
}

