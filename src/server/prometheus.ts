/**
 * Just enough of the Prometheus text exposition format (version 0.0.4) to publish counters, gauges
 * and histograms: `# HELP`, `# TYPE`, then samples `name{label="value"} number`.
 */

export type Labels = Readonly<Record<string, string>>;

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function numText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** HELP and TYPE lines, then one sample per [labels, value]. */
export function renderMetric(name: string, type: "counter" | "gauge", help: string, samples: ReadonlyArray<readonly [Labels, number]>): string {
  const lines = [`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`];
  for (const [labels, v] of samples) lines.push(`${name}${labelText(labels)} ${numText(v)}`);
  return lines.join("\n") + "\n";
}

/** A cumulative histogram with fixed upper bounds (seconds); `+Inf` is implied. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length).fill(0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]!) this.counts[i]!++;
  }

  get observations(): number {
    return this.count;
  }

  render(name: string, help: string, labels: Labels = {}): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.bounds.forEach((b, i) => lines.push(`${name}_bucket${labelText({ ...labels, le: numText(b) })} ${this.counts[i]}`));
    lines.push(`${name}_bucket${labelText({ ...labels, le: "+Inf" })} ${this.count}`);
    lines.push(`${name}_sum${labelText(labels)} ${numText(this.sum)}`);
    lines.push(`${name}_count${labelText(labels)} ${this.count}`);
    return lines.join("\n") + "\n";
  }
}
