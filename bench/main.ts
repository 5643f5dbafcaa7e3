/**
 * `npm run bench`: measure every tracker on every scenario, write the
 * results, print a summary. See bench/cli.ts for the options and
 * bench/runner.ts for the run.
 */
import { runCli } from '../src/cli/guard.ts';
import { USAGE, parseBenchArgs } from './cli.ts';
import { runBench } from './runner.ts';

await runCli('kho-bench', async () => {
  const options = parseBenchArgs(process.argv.slice(2));
  if (!options.help) return runBench(options);
  process.stdout.write(`${USAGE}\n`);
  return 0;
});
