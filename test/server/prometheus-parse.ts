/** A small parser of the Prometheus text format for tests: samples by name and labels, and TYPE lines. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  types: Map<string, string>;
  /** The one sample with this name whose labels include `labels`; throws when there is none. */
  get(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

export function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (m) types.set(m[1]!, m[2]!);
      else if (!line.startsWith("# HELP ")) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const consumed = m[3].replace(LABEL, (_, k: string, v: string) => {
        labels[k] = v.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
        return "";
      });
      if (consumed.trim() !== "") throw new Error(`bad labels in: ${line}`);
    }
    const v = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
    if (Number.isNaN(v) && m[4] !== "NaN") throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value: v });
  }
  return {
    samples, types,
    get(name, want = {}) {
      const s = samples.find((x) => x.name === name && Object.entries(want).every(([k, v]) => x.labels[k] === v));
      if (!s) throw new Error(`no sample ${name} ${JSON.stringify(want)}`);
      return s.value;
    },
  };
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics: HTTP ${res.status}`);
  return parsePrometheus(await res.text());
}
