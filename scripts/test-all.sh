#!/usr/bin/env bash
# The test command: the vitest suite on Node, the same files under `bun test`, and the Deno smoke
# and webgpu tests. Prints each runner's output, then one line "N passed, N failed" over all three.
set -u
cd "$(dirname "$0")/.."
export NO_COLOR=1 FORCE_COLOR=0
log=$(mktemp -d)
status=0

echo "== node: vitest run"
npx vitest run --reporter=default --reporter=json --outputFile.json="$log/vitest.json" 2>&1 | tee "$log/vitest.txt" || status=1
echo "== bun test"
npx bun test --timeout 120000 2>&1 | tee "$log/bun.txt" || status=1
echo "== deno test (smoke, webgpu)"
npx deno test -A --no-check test/deno/smoke.deno.ts test/deno/webgpu.deno.ts 2>&1 | tee "$log/deno.txt" || status=1

node - "$log" <<'JS'
const fs = require("fs");
const dir = process.argv[2];
let passed = 0, failed = 0;
try {
  const v = JSON.parse(fs.readFileSync(`${dir}/vitest.json`, "utf8"));
  passed += v.numPassedTests; failed += v.numFailedTests + (v.numRuntimeErrorTestSuites ?? 0) + (v.numFailedTestSuites && !v.numFailedTests ? v.numFailedTestSuites : 0);
} catch { failed += 1; console.log("vitest: no JSON report (counted as a failure)"); }
const bun = fs.readFileSync(`${dir}/bun.txt`, "utf8");
const bp = bun.match(/^\s*(\d+) pass/m), bf = bun.match(/^\s*(\d+) fail/m);
if (bp) passed += +bp[1]; else { failed += 1; console.log("bun: no summary (counted as a failure)"); }
if (bf) failed += +bf[1];
const deno = fs.readFileSync(`${dir}/deno.txt`, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
const dm = deno.match(/(\d+) passed \| (\d+) failed/);
if (dm) { passed += +dm[1]; failed += +dm[2]; } else { failed += 1; console.log("deno: no summary (counted as a failure)"); }
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
JS
js=$?
rm -rf "$log"
[ $status -ne 0 ] && exit 1
exit $js
