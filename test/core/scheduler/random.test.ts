import { describe, expect, it } from "vitest";
import { runScenario } from "../helpers/scenario.ts";

const NUM_SEEDS = 300;

describe("randomised scheduler runs (fixed seeds)", () => {
  it(`${NUM_SEEDS} random request mixes finish with the tokens they get alone, within budgets, invariants holding`, () => {
    const totals = { steps: 0, preemptions: 0, prefixHits: 0, aborted: 0, requests: 0, runsWithPreemption: 0 };
    for (let seed = 1; seed <= NUM_SEEDS; seed++) {
      let r;
      try {
        r = runScenario(seed);
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`);
      }
      totals.steps += r.steps;
      totals.preemptions += r.preemptions;
      totals.prefixHits += r.prefixHits;
      totals.aborted += r.aborted;
      totals.requests += r.requests;
      if (r.preemptions > 0) totals.runsWithPreemption++;
    }
    // The mixes must actually exercise preemption, prefix hits and aborts.
    expect(totals.runsWithPreemption).toBeGreaterThan(NUM_SEEDS / 10);
    expect(totals.prefixHits).toBeGreaterThan(1000);
    expect(totals.aborted).toBeGreaterThan(50);
  });
});
