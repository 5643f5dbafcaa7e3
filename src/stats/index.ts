/** Statistics: CIs, percentiles, pooling across runs, power-law fits, per-process intervals and comparisons, the seeded PRNG. */
export { tCritical95 } from './t-dist.ts';
export { quantile, quantileSorted, sortedCopy } from './percentile.ts';
export {
  type Estimate,
  type SampleSummary,
  SKETCH_POINTS,
  estimateOf,
  exactEstimate,
  poolSummaries,
  scaleEstimate,
  sumEstimates,
  summarize,
  summaryQuantile,
} from './summary.ts';
export { type PowerLawFit, fitPowerLaw } from './fit.ts';
export { type Uniform, normalDeviate, seededUniform } from './rng.ts';
export { Z95, normalCdf, normalQuantile, tCdf, tQuantile, twoSidedP } from './distributions.ts';
export {
  type BootstrapMethod,
  type BootstrapOptions,
  type Interval,
  type RatioOptions,
  type Statistic,
  bootstrapInterval,
  bootstrapRatio,
  meanStatistic,
  medianStatistic,
} from './bootstrap.ts';
export {
  type ProcessEstimate,
  type ProcessIntervalMethod,
  type ProcessIntervalOptions,
  type ProcessSpread,
  type TukeyClasses,
  type TukeyFences,
  type TukeyOutliers,
  DEFAULT_INTERVAL_METHOD,
  SPREAD_WARNING_CV,
  processInterval,
  processSpread,
  spreadWarning,
  tukeyOutliers,
} from './replicates.ts';
export { type MannWhitneyResult, mannWhitneyU } from './mann-whitney.ts';
export { benjaminiHochberg } from './benjamini-hochberg.ts';
export {
  type AaSummary,
  type ChangeVerdict,
  type ExactComparison,
  type FamilyMember,
  type MetricComparison,
  type ProcessComparisonOptions,
  type TimingComparison,
  DEFAULT_ALPHA,
  DEFAULT_NOISE_PCT,
  aaSummary,
  adjustAcrossMetrics,
  adjustFamily,
  compareExact,
  compareProcessSamples,
} from './comparison.ts';
