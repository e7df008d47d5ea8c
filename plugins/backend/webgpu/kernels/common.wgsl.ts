/** WGSL shared by the kernels: the linear workgroup index over a dispatch split across x and y; a tanh that cannot overflow. */
export const WG_INDEX = /* wgsl */ `
fn wg_linear(wg: vec3u, nw: vec3u) -> u32 { return wg.x + wg.y * nw.x; }
fn tanh_safe(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
`;

/** Workgroup size of the elementwise kernels. */
export const EW = 256;

/** Workgroups for `n` elements at `per` elements per workgroup. */
export function groups(n: number, per: number): number {
  return Math.ceil(n / per);
}
