/**
 * `npm run bench`: measure every tracker on every scenario, write the
 * results, print a summary. See bench/cli.ts for the options and
 * bench/runner.ts for the run.
 */
import { USAGE, UsageError, parseBenchArgs } from './cli.ts';
import { runBench } from './runner.ts';

try {
  const options = parseBenchArgs(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    process.exitCode = await runBench(options);
  }
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`kho-bench: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
