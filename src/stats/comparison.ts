/**
 * Comparing two runs metric by metric, with processes as the samples.
 *
 * A timing metric is flagged only when both
 *  - its per-process values differ: Mann–Whitney U, two-sided, with the
 *    p-values Benjamini–Hochberg-adjusted across every metric compared
 *    (adjustAcrossMetrics) and below alpha; and
 *  - the relative change of the means exceeds the noise threshold
 *    (criterion.rs's idea: a real but tiny change is not worth a flag).
 * Means rather than medians: with 3 to 10 processes the median wastes
 * data (about 64% of the mean's efficiency for normal values), and the
 * interval of each run is of its mean; the rank test already keeps one
 * wild process from making a change significant on its own. The change is
 * reported as a ratio of means with a bootstrap interval over processes,
 * which, like any bootstrap from 10 values, is somewhat narrower than its
 * nominal coverage (src/stats/bootstrap.ts): it describes the change, the
 * flag does not rest on it.
 *
 * Exact metrics (bytes, pages, counts) have no noise: compareExact.
 */
import { benjaminiHochberg } from './benjamini-hochberg.ts';
import { type Interval, bootstrapRatio } from './bootstrap.ts';
import { mannWhitneyU } from './mann-whitney.ts';

/**
 * Relative changes of at most this many percent are "within noise" (default
 * 5, as the report's comparison has used): with 10 processes a side and the
 * typical between-process CV of ~9.4%, a change's standard error is about
 * 4% (CV·√(2/10)), so smaller changes cannot be resolved and a flag on one
 * would rest on the test alone.
 */
export const DEFAULT_NOISE_PCT = 5;

/** Significance level for the adjusted p-values (default 0.05). */
export const DEFAULT_ALPHA = 0.05;

export type ChangeVerdict = 'regression' | 'improvement' | 'within noise';

export interface ProcessComparisonOptions {
  /** Default DEFAULT_NOISE_PCT. */
  noisePct?: number;
  /** Default DEFAULT_ALPHA. */
  alpha?: number;
  /** Of the change's bootstrap interval: coverage (0.95), resamples (2000), seed (0x5eed). */
  confidence?: number;
  iterations?: number;
  seed?: number;
}

/** A timing metric of a baseline run against the current run (larger is worse). */
export interface TimingComparison {
  kind: 'timing';
  /** Means of the per-process values. */
  baseline: number;
  current: number;
  /** current / baseline − 1, with its bootstrap interval over processes. */
  change: Interval;
  /** Mann–Whitney U two-sided p of the per-process values, and its adjusted value (= p until adjustAcrossMetrics). */
  p: number;
  pAdjusted: number;
  test: 'exact' | 'normal';
  processes: { baseline: number; current: number };
  noisePct: number;
  alpha: number;
  /** pAdjusted < alpha. */
  significant: boolean;
  /** significant, and |change| above noisePct. */
  flagged: boolean;
  verdict: ChangeVerdict;
  /** A derived metric's: the metrics it follows (adjustFamily); it is not a test of its own. */
  derivedFrom?: readonly string[];
}

/** An exact metric of a baseline run against the current run. */
export interface ExactComparison {
  kind: 'exact';
  baseline: number;
  current: number;
  /** current / baseline − 1 (0 when both are 0, Infinity from 0 to a positive value). */
  change: number;
  changed: boolean;
}

export type MetricComparison = TimingComparison | ExactComparison;

function decide(c: Omit<TimingComparison, 'significant' | 'flagged' | 'verdict'>): TimingComparison {
  const significant = c.pAdjusted < c.alpha;
  const flagged = significant && Math.abs(c.change.value) * 100 > c.noisePct;
  const verdict: ChangeVerdict = flagged ? (c.change.value > 0 ? 'regression' : 'improvement') : 'within noise';
  return { ...c, significant, flagged, verdict };
}

/**
 * Compares the per-process values of one timing metric, `baseline` then
 * `current` (each at least 2 processes). The p-value is not yet adjusted:
 * pass every comparison of a run through adjustAcrossMetrics.
 */
export function compareProcessSamples(
  baseline: readonly number[],
  current: readonly number[],
  options: ProcessComparisonOptions = {},
): TimingComparison {
  if (baseline.length < 2 || current.length < 2) {
    throw new RangeError(`a comparison over processes needs at least 2 on each side, got ${baseline.length} and ${current.length}`);
  }
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ratio = bootstrapRatio(baseline, current, {
    statistic: 'mean',
    confidence: options.confidence,
    iterations: options.iterations,
    seed: options.seed,
  });
  const mw = mannWhitneyU(current, baseline);
  return decide({
    kind: 'timing',
    baseline: mean(baseline),
    current: mean(current),
    change: { value: ratio.value - 1, low: ratio.low - 1, high: ratio.high - 1 },
    p: mw.p,
    pAdjusted: mw.p,
    test: mw.method,
    processes: { baseline: baseline.length, current: current.length },
    noisePct: options.noisePct ?? DEFAULT_NOISE_PCT,
    alpha: options.alpha ?? DEFAULT_ALPHA,
  });
}

/** The comparisons of one run again, their p-values Benjamini–Hochberg-adjusted across all of them, verdicts redone. */
export function adjustAcrossMetrics(comparisons: readonly TimingComparison[]): TimingComparison[] {
  const adjusted = benjaminiHochberg(comparisons.map((c) => c.p));
  return comparisons.map((c, i) => decide({ ...c, pAdjusted: adjusted[i] }));
}

/** One measured metric in a family of comparisons: of a group (a pair, a sweep point), by name. */
export interface FamilyMember {
  readonly group: string;
  readonly metric: string;
  readonly comparison: TimingComparison;
  /** The metrics of the same group it is computed from, per process: then it is not tested on its own. */
  readonly derivedFrom?: readonly string[];
}

/**
 * The comparisons of a family, adjusted: Benjamini–Hochberg across the
 * metrics that are measured in their own right, then each derived metric
 * (a total per folio, a sum of steps) takes the smallest adjusted p of the
 * metrics it is computed from, and its own change decides its flag. A
 * derived metric is the same hypothesis again: a per-folio time is its
 * total over a constant, so its test is its total's. Testing it again
 * would count one finding several times, and loosen BH too, whose step-up
 * adjusts k tied p-values by m/k instead of m. A derived metric whose bases
 * are not in the family cannot be significant.
 */
export function adjustFamily(members: readonly FamilyMember[]): TimingComparison[] {
  const tested = members.map((m, i) => ({ m, i })).filter(({ m }) => !m.derivedFrom);
  const adjusted = adjustAcrossMetrics(tested.map(({ m }) => m.comparison));
  const out: TimingComparison[] = new Array(members.length);
  const byName = new Map<string, TimingComparison>();
  tested.forEach(({ m, i }, k) => {
    out[i] = adjusted[k];
    byName.set(`${m.group}\u0000${m.metric}`, adjusted[k]);
  });
  members.forEach((m, i) => {
    if (!m.derivedFrom) return;
    const bases = m.derivedFrom.map((b) => byName.get(`${m.group}\u0000${b}`)).filter((c) => c !== undefined);
    const pAdjusted = Math.min(1, ...bases.map((c) => c.pAdjusted));
    out[i] = { ...decide({ ...m.comparison, pAdjusted }), derivedFrom: m.derivedFrom };
  });
  return out;
}

/** Compares an exact metric: any difference is a change. */
export function compareExact(baseline: number, current: number): ExactComparison {
  const change = baseline === 0 ? (current === 0 ? 0 : current > 0 ? Infinity : -Infinity) : current / baseline - 1;
  return { kind: 'exact', baseline, current, change, changed: baseline !== current };
}

/** What an A/A run (the same code twice, interleaved) found: ideally nothing. */
export interface AaSummary {
  /** Timing metrics flagged, of how many, and the share; derived metrics (adjustFamily) are not counted. */
  flagged: number;
  timing: number;
  flaggedShare: number;
  /** Exact metrics that differ (each is a determinism bug), of how many. */
  exactChanged: number;
  exact: number;
  /** One line, e.g. "A/A: 1 of 240 timing metrics flagged (0.4%); 0 of 120 exact metrics differ". */
  message: string;
}

/**
 * Summarizes an A/A comparison (after adjustAcrossMetrics). With every
 * null true, BH keeps the chance of any flag at alpha or less, so more
 * than the odd flag means the intervals understate the noise (a host that
 * drifted, a process effect not captured).
 */
export function aaSummary(comparisons: readonly MetricComparison[]): AaSummary {
  const timing = comparisons.filter((c): c is TimingComparison => c.kind === 'timing' && !c.derivedFrom);
  const exact = comparisons.filter((c): c is ExactComparison => c.kind === 'exact');
  const flagged = timing.filter((c) => c.flagged).length;
  const exactChanged = exact.filter((c) => c.changed).length;
  const flaggedShare = timing.length ? flagged / timing.length : 0;
  const message =
    `A/A: ${flagged} of ${timing.length} timing metrics flagged (${(flaggedShare * 100).toFixed(1)}%); ` +
    `${exactChanged} of ${exact.length} exact metrics differ`;
  return { flagged, timing: timing.length, flaggedShare, exactChanged, exact: exact.length, message };
}
