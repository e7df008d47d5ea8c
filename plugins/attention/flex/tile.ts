/** Online-softmax state of a tile of query lanes (one query row × one head each), reused across calls. */
export class FlexTile {
  n = 0;
  headDim = 0;
  m = new Float64Array(0);
  l = new Float64Array(0);
  acc = new Float64Array(0);
  scores = new Float64Array(0);
  laneQOff = new Int32Array(0);
  laneQPos = new Int32Array(0);
  laneH = new Int32Array(0);

  reset(n: number, headDim: number, maxBlock: number): void {
    if (this.m.length < n) {
      this.m = new Float64Array(n); this.l = new Float64Array(n);
      this.laneQOff = new Int32Array(n); this.laneQPos = new Int32Array(n); this.laneH = new Int32Array(n);
    }
    if (this.acc.length < n * headDim) this.acc = new Float64Array(n * headDim);
    if (this.scores.length < n * maxBlock) this.scores = new Float64Array(n * maxBlock);
    this.n = n;
    this.headDim = headDim;
    this.m.fill(-Infinity, 0, n);
    this.l.fill(0, 0, n);
    this.acc.fill(0, 0, n * headDim);
  }

  /** out[lane] = acc / l (zeros for a lane that saw nothing, as FlexAttention returns for fully masked rows). */
  writeLane(lane: number, out: Float32Array, outOff: number): void {
    const D = this.headDim, l = this.l[lane]!, ao = lane * D;
    if (l === 0) { out.fill(0, outOff, outOff + D); return; }
    const inv = 1 / l;
    for (let d = 0; d < D; d++) out[outOff + d] = this.acc[ao + d]! * inv;
  }
}
