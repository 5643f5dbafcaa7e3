/** Statistics: CIs, percentiles, pooling across runs, power-law fits. */
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
