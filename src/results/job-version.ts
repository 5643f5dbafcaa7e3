/** The version of the raw job-output format (src/results/job.ts), kept apart so job processes need not load zod. */
export const JOB_SCHEMA_VERSION = 2 as const;
