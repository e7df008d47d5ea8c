import { useEffect, useState } from "react";
import type { ChatSession } from "./chat-session.ts";

/**
 * Re-render on session changes, at most `fps` times a second: a burst of token deltas between two
 * frames becomes one render (the first change after a quiet spell renders at once). Returns the
 * render tick.
 */
export function useSessionView(session: ChatSession, fps: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const interval = 1000 / Math.max(1, fps);
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = -Infinity;
    const flush = () => {
      timer = null;
      last = performance.now();
      setTick((t) => t + 1);
    };
    const unsubscribe = session.subscribe((e) => {
      if (e.type !== "change" || timer !== null) return;
      timer = setTimeout(flush, Math.max(0, last + interval - performance.now()));
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [session, fps]);
  return tick;
}
