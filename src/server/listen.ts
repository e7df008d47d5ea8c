import type { AddressInfo } from "node:net";

export type FetchHandler = (req: Request) => Response | Promise<Response>;

/** A bound HTTP server on the current runtime. */
export interface Listener {
  hostname: string;
  port: number;
  url: string;
  /** Stop accepting new connections (open ones carry on). */
  stopAccepting(): void;
  /** Resolves once open connections have closed; after `forceAfterMs` the rest are cut. */
  close(forceAfterMs: number): Promise<void>;
}

interface BunServer { port: number; stop(closeActive?: boolean): Promise<void> | void }
interface BunGlobal { serve(o: { fetch: FetchHandler; hostname: string; port: number; idleTimeout?: number }): BunServer }
interface DenoServer { addr: { port: number }; finished: Promise<void>; shutdown(): Promise<void> }
interface DenoGlobal {
  serve(o: { hostname: string; port: number; onListen?: (a: unknown) => void }, h: FetchHandler): DenoServer;
}

export function urlOf(hostname: string, port: number): string {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `http://${host}:${port}`;
}

function withTimeout(p: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<void>((r) => (timer = setTimeout(() => { onTimeout(); r(); }, ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function bunListener(bun: BunGlobal, fetch: FetchHandler, hostname: string, port: number): Listener {
  const server = bun.serve({ fetch, hostname, port, idleTimeout: 0 }); // 0: no idle cut-off for long streams
  let stopped: Promise<void> | null = null;
  const stopAccepting = () => void (stopped ??= Promise.resolve(server.stop(false)));
  return {
    hostname, port: server.port, url: urlOf(hostname, server.port), stopAccepting,
    close: (force) => {
      stopAccepting();
      return withTimeout(stopped!, force, () => void server.stop(true));
    },
  };
}

function denoListener(deno: DenoGlobal, fetch: FetchHandler, hostname: string, port: number): Listener {
  const server = deno.serve({ hostname, port, onListen: () => {} }, fetch);
  let stopped: Promise<void> | null = null;
  const stopAccepting = () => void (stopped ??= server.shutdown());
  return {
    hostname, port: server.addr.port, url: urlOf(hostname, server.addr.port), stopAccepting,
    close: (force) => {
      stopAccepting();
      return withTimeout(stopped!, force, () => {});
    },
  };
}

async function nodeListener(fetch: FetchHandler, hostname: string, port: number): Promise<Listener> {
  const { serve } = await import("@hono/node-server");
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, (info: AddressInfo) => {
      const node = server as unknown as import("node:http").Server;
      let closed: Promise<void> | null = null;
      const stopAccepting = () => void (closed ??= new Promise<void>((r) => node.close(() => r())));
      resolve({
        hostname, port: info.port, url: urlOf(hostname, info.port), stopAccepting,
        close: (force) => {
          stopAccepting();
          // Keep-alive connections that go idle (streams ending) are closed as they do.
          node.closeIdleConnections();
          const sweep = setInterval(() => node.closeIdleConnections(), 25);
          return withTimeout(closed!, force, () => node.closeAllConnections()).finally(() => clearInterval(sweep));
        },
      });
    });
    server.once("error", reject);
  });
}

/** Serve `fetch` with Bun.serve under Bun, Deno.serve under Deno, @hono/node-server under Node. Port 0 picks a free one. */
export async function listen(fetch: FetchHandler, hostname: string, port: number): Promise<Listener> {
  const g = globalThis as { Bun?: BunGlobal; Deno?: DenoGlobal };
  if (g.Bun) return bunListener(g.Bun, fetch, hostname, port);
  if (g.Deno) return denoListener(g.Deno, fetch, hostname, port);
  return nodeListener(fetch, hostname, port);
}
