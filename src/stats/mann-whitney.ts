/**
 * The two-sided Mann–Whitney U test (Wilcoxon rank-sum): do two
 * independent samples come from one distribution? Rank-based, so one wild
 * value weighs no more than any other, and it assumes nothing about the
 * shape. Checked against SciPy's mannwhitneyu (src/report/stats.test.ts).
 *
 * With tiny samples it cannot reach the usual levels: the smallest
 * two-sided p is 2 / C(n1 + n2, n1), 0.1 for 3 vs 3, 0.029 for 4 vs 4,
 * 1.1e-5 for 10 vs 10.
 */
import { twoSidedP } from './distributions.ts';

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (a, b) with a > b, ties counting 1/2. */
  u: number;
  /** min(U1, U2), the statistic tables report. */
  uMin: number;
  /** Normal-approximation z (tie-corrected, continuity-corrected); 0 with the exact method. */
  z: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'normal';
  /** Probability that a random value of `a` exceeds one of `b` (ties 1/2): U / (n1 n2). */
  effect: number;
}

/** Number of arrangements with U = u, for each u in 0..n1*n2 (no ties). */
function exactUDistribution(n1: number, n2: number): Float64Array {
  // A run tests hundreds of metrics with the same process counts: build each table once.
  const key = n1 * 31 + n2;
  let dist = EXACT_CACHE.get(key);
  if (!dist) EXACT_CACHE.set(key, (dist = buildExactUDistribution(n1, n2)));
  return dist;
}

/** Exact null distributions of U by (n1, n2) (both at most 30). */
const EXACT_CACHE = new Map<number, Float64Array>();

function buildExactUDistribution(n1: number, n2: number): Float64Array {
  // counts[m][n][u] by the recurrence f(m,n,u) = f(m-1,n,u-n) + f(m,n-1,u).
  const max = n1 * n2;
  let prev: Float64Array[] = [];
  for (let n = 0; n <= n2; n++) {
    const row = new Float64Array(max + 1);
    row[0] = 1;
    prev.push(row);
  }
  for (let m = 1; m <= n1; m++) {
    const cur: Float64Array[] = [];
    const first = new Float64Array(max + 1);
    first[0] = 1;
    cur.push(first);
    for (let n = 1; n <= n2; n++) {
      const row = new Float64Array(max + 1);
      for (let u = 0; u <= m * n; u++) row[u] = (u >= n ? prev[n][u - n] : 0) + cur[n - 1][u];
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n2];
}

/**
 * Two-sided Mann–Whitney U test of `a` against `b`. Exact (as SciPy's
 * method="exact") when both samples are small and have no ties, otherwise
 * the normal approximation with tie and continuity corrections (as SciPy's
 * method="asymptotic", use_continuity=True).
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, uMin: NaN, z: 0, p: 1, method: 'normal', effect: NaN };
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const n = n1 + n2;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1].v === all[i].v) j++;
    const rank = (i + j + 2) / 2;
    const t = j - i + 1;
    if (t > 1) tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k].g === 0) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const uMin = Math.min(u, n1 * n2 - u);
  const effect = u / (n1 * n2);
  if (tieTerm === 0 && n1 <= 30 && n2 <= 30) {
    const dist = exactUDistribution(n1, n2);
    let total = 0;
    for (const c of dist) total += c;
    let tail = 0;
    for (let k = 0; k <= Math.floor(uMin + 1e-9); k++) tail += dist[k];
    return { u, uMin, z: 0, p: Math.min(1, (2 * tail) / total), method: 'exact', effect };
  }
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sd === 0) return { u, uMin, z: 0, p: 1, method: 'normal', effect };
  const diff = u - mean;
  const z = (diff - Math.sign(diff) * 0.5) / sd;
  return { u, uMin, z, p: twoSidedP(z), method: 'normal', effect };
}
