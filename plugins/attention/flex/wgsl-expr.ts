/**
 * A flex mod's expression → WGSL. The same inputs as expr.ts (a single-expression function or an
 * expression string, its parameters, its closed-over `params`), parsed into a tree with JavaScript's
 * precedence, typed, and written out as WGSL:
 *   - types: score is f32; b, h, q_idx, kv_idx are i32; comparisons and &&, ||, ! are bool;
 *     an integer literal or integer-valued scalar param is i32, any other number f32;
 *     i32 meets f32 → f32 (JavaScript computes in f64: results agree while values stay integers
 *     below 2^24 and within f32's precision otherwise); `/` and `**` always give f32, as in JavaScript;
 *   - `c ? a : b` → select(b, a, c) (both sides are evaluated: mods are pure);
 *   - Math.abs/min/max/floor/ceil/trunc/sign/sqrt/exp/log/pow/sin/cos → WGSL built-ins,
 *     Math.round → floor(x + 0.5) (JavaScript rounds halves up), Math.tanh → tanh_safe;
 *   - array params (ALiBi slopes, document ids, bias tables) live in one storage buffer of f32
 *     (`modp`); a read clamps its index into the array (JavaScript would give undefined);
 *     an array of integers below 2^24 is read back as i32;
 *   - a number used as a condition (?:, !, &&, ||) is true when non-zero (JavaScript's truthiness,
 *     except that NaN counts as true); && and || give booleans (JavaScript would give an operand);
 *   - bitwise operators need i32 operands.
 * Anything else is refused with the reason, so the plugin can say why a mod cannot run on the GPU.
 */
import { splitFunction } from "./expr.ts";
import type { ModParams } from "./mods.ts";

export type WgslType = "i32" | "f32" | "bool";

/** Array params packed for the `modp` buffer: values in order, each param's offset and length. */
export class ModParamBuffer {
  readonly values: number[] = [];
  readonly slots = new Map<ArrayLike<number>, { offset: number; length: number; type: "i32" | "f32" }>();

  slot(a: ArrayLike<number>): { offset: number; length: number; type: "i32" | "f32" } {
    let s = this.slots.get(a);
    if (!s) {
      if (a.length === 0) throw new Error("an empty array param cannot be read");
      let isInt = true;
      for (let i = 0; i < a.length; i++) {
        const v = a[i]!;
        if (!Number.isFinite(v)) throw new Error(`array param holds ${v}, which f32 storage cannot carry`);
        if (!Number.isInteger(v) || Math.abs(v) > 2 ** 24) isInt = false;
      }
      s = { offset: this.values.length, length: a.length, type: isInt ? "i32" : "f32" };
      for (let i = 0; i < a.length; i++) this.values.push(a[i]!);
      this.slots.set(a, s);
    }
    return s;
  }
}

type Node =
  | { k: "num"; text: string; value: number }
  | { k: "bool"; value: boolean }
  | { k: "inf" }
  | { k: "id"; name: string }
  | { k: "un"; op: string; x: Node }
  | { k: "bin"; op: string; a: Node; b: Node }
  | { k: "cond"; c: Node; t: Node; f: Node }
  | { k: "call"; fn: string; args: Node[] }
  | { k: "index"; arr: string; i: Node }
  | { k: "len"; arr: string };

const PUNCT = ["===", "!==", "**", "<=", ">=", "==", "!=", "&&", "||", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "!", "?", ":", "(", ")", "[", "]", ",", ".", "&", "|", "^", "~"];
const TOKEN = String.raw`\s+|(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)`;
/** Binary operators by precedence (JavaScript's, higher binds tighter); ** is right-associative. */
const BINARY: Record<string, number> = {
  "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "===": 6, "!==": 6,
  "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10, "**": 12,
};
const MATH = new Set(["abs", "min", "max", "floor", "ceil", "round", "trunc", "sign", "sqrt", "exp", "log", "tanh", "pow", "sin", "cos"]);

function tokenize(src: string): string[] {
  const re = new RegExp(TOKEN, "y");
  const out: string[] = [];
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (m && m.index === pos && m[0].length > 0) {
      pos += m[0].length;
      if (!/^\s/.test(m[0])) out.push(m[0]);
      continue;
    }
    const p = PUNCT.find((x) => src.startsWith(x, pos));
    if (!p) throw new Error(`unexpected character '${src[pos]}'`);
    out.push(p);
    pos += p.length;
  }
  return out;
}

/** Pratt parser over the token list. */
class Parser {
  private i = 0;
  constructor(private readonly t: string[]) {}
  private peek(): string | undefined { return this.t[this.i]; }
  private next(): string {
    const x = this.t[this.i++];
    if (x === undefined) throw new Error("unexpected end of expression");
    return x;
  }
  private expect(s: string): void {
    const x = this.next();
    if (x !== s) throw new Error(`expected '${s}' but found '${x}'`);
  }
  parse(): Node {
    const n = this.expr(0);
    if (this.i < this.t.length) throw new Error(`unexpected '${this.t[this.i]}'`);
    return n;
  }
  private expr(minPrec: number): Node {
    let left = this.unary();
    for (;;) {
      const op = this.peek();
      if (op === "?") {
        if (minPrec > 0) return left;
        this.next();
        const t = this.expr(0);
        this.expect(":");
        const f = this.expr(0);
        left = { k: "cond", c: left, t, f };
        continue;
      }
      const prec = op !== undefined ? BINARY[op] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.next();
      const right = this.expr(op === "**" ? prec : prec + 1);
      left = { k: "bin", op: op!, a: left, b: right };
    }
  }
  private unary(): Node {
    const op = this.peek();
    if (op === "-" || op === "+" || op === "!" || op === "~") {
      this.next();
      return { k: "un", op, x: this.unary() };
    }
    return this.postfix(this.primary());
  }
  private primary(): Node {
    const x = this.next();
    if (x === "(") {
      const n = this.expr(0);
      this.expect(")");
      return n;
    }
    if (/^[\d.]/.test(x)) return { k: "num", text: x, value: Number(x) };
    if (x === "true" || x === "false") return { k: "bool", value: x === "true" };
    if (x === "Infinity") return { k: "inf" };
    if (x === "Math") {
      this.expect(".");
      const fn = this.next();
      if (!MATH.has(fn)) throw new Error(`Math.${fn} is not supported on webgpu (supported: ${[...MATH].join(", ")})`);
      return this.call(fn);
    }
    if (/^[A-Za-z_$]/.test(x)) {
      if (MATH.has(x) && this.peek() === "(") return this.call(x);
      return { k: "id", name: x };
    }
    throw new Error(`unexpected '${x}'`);
  }
  private call(fn: string): Node {
    this.expect("(");
    const args: Node[] = [];
    if (this.peek() !== ")") {
      do args.push(this.expr(0)); while (this.peek() === "," && this.next());
    }
    this.expect(")");
    return { k: "call", fn, args };
  }
  private postfix(n: Node): Node {
    for (;;) {
      if (this.peek() === "[") {
        if (n.k !== "id") throw new Error("only a named array param can be indexed");
        this.next();
        const i = this.expr(0);
        this.expect("]");
        n = { k: "index", arr: n.name, i };
      } else if (this.peek() === ".") {
        this.next();
        const p = this.next();
        if (p !== "length" || n.k !== "id") throw new Error(`property '.${p}' is not allowed (only <array param>.length)`);
        n = { k: "len", arr: n.name };
      } else if (this.peek() === "(") {
        throw new Error(`calls are not allowed except Math.* (found a call after ${n.k === "id" ? `'${n.name}'` : "an expression"})`);
      } else return n;
    }
  }
}

interface Typed { code: string; type: WgslType }

function f32Literal(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`the number ${v} has no WGSL literal`);
  const s = String(v);
  return /[.eE]/.test(s) ? `${s}f` : `${s}.0f`;
}

/** Typed WGSL emission of one parsed mod. */
class Emitter {
  constructor(
    private readonly vars: ReadonlyMap<string, Typed>,
    private readonly params: ModParams,
    private readonly buffer: ModParamBuffer,
    private readonly infCode: string,
  ) {}

  private asF32(x: Typed): string {
    if (x.type === "bool") throw new Error(`a boolean (${x.code}) is used as a number`);
    return x.type === "f32" ? x.code : `f32(${x.code})`;
  }
  /** JavaScript truthiness of a number (0 is false; NaN counts as true here). */
  private truthy(x: Typed): Typed {
    if (x.type === "bool") return x;
    return { code: `(${x.code} != ${x.type === "i32" ? "0i" : "0.0f"})`, type: "bool" };
  }
  private num(x: Typed, what: string): Typed {
    if (x.type === "bool") throw new Error(`${what} needs a number, got a boolean`);
    return x;
  }
  private unify(a: Typed, b: Typed): [string, string, WgslType] {
    if (a.type === "bool" || b.type === "bool") {
      if (a.type === b.type) return [a.code, b.code, "bool"];
      throw new Error("a boolean is mixed with a number");
    }
    if (a.type === "i32" && b.type === "i32") return [a.code, b.code, "i32"];
    return [this.asF32(a), this.asF32(b), "f32"];
  }
  private array(name: string): { offset: number; length: number; type: "i32" | "f32" } {
    if (!Object.hasOwn(this.params, name)) throw new Error(`unknown name '${name}' (pass closed-over values in params under the same name)`);
    const v = this.params[name]!;
    if (typeof v === "number") throw new Error(`'${name}' is a number, not an array param`);
    return this.buffer.slot(v);
  }

  emit(n: Node): Typed {
    switch (n.k) {
      case "num": {
        const isInt = /^\d+$/.test(n.text) && n.value < 2 ** 31;
        return isInt ? { code: `${n.value}i`, type: "i32" } : { code: f32Literal(n.value), type: "f32" };
      }
      case "bool": return { code: String(n.value), type: "bool" };
      case "inf": return { code: this.infCode, type: "f32" };
      case "id": {
        const v = this.vars.get(n.name);
        if (v) return v;
        if (!Object.hasOwn(this.params, n.name)) throw new Error(`unknown name '${n.name}' (pass closed-over values in params under the same name)`);
        const p = this.params[n.name]!;
        if (typeof p !== "number") throw new Error(`array param '${n.name}' is used without an index`);
        if (Number.isInteger(p) && Math.abs(p) < 2 ** 31) return { code: `${p}i`, type: "i32" };
        return { code: f32Literal(p), type: "f32" };
      }
      case "len": return { code: `${this.array(n.arr).length}i`, type: "i32" };
      case "index": {
        const s = this.array(n.arr);
        const i = this.num(this.emit(n.i), "an index");
        const idx = i.type === "i32" ? i.code : `i32(${i.code})`;
        const read = `modp[${s.offset}u + u32(clamp(${idx}, 0i, ${s.length - 1}i))]`;
        return s.type === "i32" ? { code: `i32(${read})`, type: "i32" } : { code: read, type: "f32" };
      }
      case "un": {
        const x = this.emit(n.x);
        if (n.op === "!") return { code: `(!${this.truthy(x).code})`, type: "bool" };
        if (n.op === "~") {
          if (x.type !== "i32") throw new Error("'~' needs an integer");
          return { code: `(~${x.code})`, type: "i32" };
        }
        this.num(x, `unary '${n.op}'`);
        return n.op === "-" ? { code: `(-${x.code})`, type: x.type } : x;
      }
      case "cond": {
        const c = this.truthy(this.emit(n.c));
        const [t, f, type] = this.unify(this.emit(n.t), this.emit(n.f));
        return { code: `select(${f}, ${t}, ${c.code})`, type };
      }
      case "call": return this.call(n.fn, n.args.map((a) => this.emit(a)));
      case "bin": return this.binary(n.op, this.emit(n.a), this.emit(n.b));
    }
  }

  private binary(op: string, a: Typed, b: Typed): Typed {
    if (op === "&&" || op === "||") return { code: `(${this.truthy(a).code} ${op} ${this.truthy(b).code})`, type: "bool" };
    if (["==", "!=", "===", "!=="].includes(op)) {
      const [x, y] = this.unify(a, b);
      return { code: `(${x} ${op.startsWith("!") ? "!=" : "=="} ${y})`, type: "bool" };
    }
    if (["<", ">", "<=", ">="].includes(op)) {
      const [x, y, t] = this.unify(this.num(a, op), this.num(b, op));
      if (t === "bool") throw new Error(`'${op}' compares numbers`);
      return { code: `(${x} ${op} ${y})`, type: "bool" };
    }
    if (["&", "|", "^", "<<", ">>"].includes(op)) {
      if (a.type !== "i32" || b.type !== "i32") throw new Error(`'${op}' needs integer operands`);
      return op === "<<" || op === ">>" ? { code: `(${a.code} ${op} u32(${b.code} & 31i))`, type: "i32" } : { code: `(${a.code} ${op} ${b.code})`, type: "i32" };
    }
    this.num(a, `'${op}'`);
    this.num(b, `'${op}'`);
    if (op === "/") return { code: `(${this.asF32(a)} / ${this.asF32(b)})`, type: "f32" };
    if (op === "**") return { code: `pow(${this.asF32(a)}, ${this.asF32(b)})`, type: "f32" };
    const [x, y, t] = this.unify(a, b);
    return { code: `(${x} ${op} ${y})`, type: t };
  }

  private call(fn: string, args: Typed[]): Typed {
    args.forEach((a) => this.num(a, `Math.${fn}`));
    const one = (): Typed => {
      if (args.length !== 1) throw new Error(`Math.${fn} takes one argument, got ${args.length}`);
      return args[0]!;
    };
    switch (fn) {
      case "min": case "max": {
        if (args.length < 1) throw new Error(`Math.${fn} needs at least one argument`);
        return args.reduce((acc, x) => { const [p, q, t] = this.unify(acc, x); return { code: `${fn}(${p}, ${q})`, type: t }; });
      }
      case "abs": case "sign": { const x = one(); return { code: `${fn}(${x.code})`, type: x.type }; }
      case "floor": case "ceil": case "trunc": { const x = one(); return x.type === "i32" ? x : { code: `${fn}(${x.code})`, type: "f32" }; }
      case "round": { const x = one(); return x.type === "i32" ? x : { code: `floor(${x.code} + 0.5f)`, type: "f32" }; }
      case "tanh": return { code: `tanh_safe(${this.asF32(one())})`, type: "f32" };
      case "pow": {
        if (args.length !== 2) throw new Error(`Math.pow takes two arguments, got ${args.length}`);
        return { code: `pow(${this.asF32(args[0]!)}, ${this.asF32(args[1]!)})`, type: "f32" };
      }
      default: return { code: `${fn}(${this.asF32(one())})`, type: "f32" };
    }
  }
}

/**
 * One leaf mod as a WGSL expression. `roles` name the kernel's variables in argument order, with
 * their WGSL types; a string expression uses the role names themselves.
 */
export function modToWgsl(
  fn: Function | string, roles: ReadonlyArray<readonly [string, WgslType]>, params: ModParams, buffer: ModParamBuffer, infCode: string,
): Typed {
  let argNames: string[], body: string;
  if (typeof fn === "string") {
    argNames = roles.map(([r]) => r);
    body = fn;
  } else {
    const split = splitFunction(fn.toString());
    if (!split) throw new Error("not a single-expression function");
    if (split.params.length > roles.length) throw new Error(`takes ${split.params.length} arguments, at most ${roles.length}`);
    argNames = split.params;
    body = split.body;
  }
  const vars = new Map<string, Typed>();
  argNames.forEach((a, i) => vars.set(a, { code: roles[i]![0], type: roles[i]![1] }));
  const tree = new Parser(tokenize(body)).parse();
  return new Emitter(vars, params, buffer, infCode).emit(tree);
}
