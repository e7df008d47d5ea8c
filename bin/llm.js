#!/usr/bin/env node
// Launcher for the `llm` command. Bun and Deno run the TypeScript sources directly; Node 20
// cannot strip types, so it registers tsx's loader first.
const isBun = typeof globalThis.Bun !== "undefined";
const isDeno = typeof globalThis.Deno !== "undefined";
if (!isBun && !isDeno) {
  const { register } = await import("tsx/esm/api");
  register();
}
const { main } = await import("../src/cli/main.ts");
await main(process.argv);
