/** Installed package versions, for the record (package.json is read directly: some packages do not export it). */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export function packageVersion(name: string): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    for (const dir of require.resolve.paths(name) ?? []) {
      const file = join(dir, name, 'package.json');
      if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
    }
  } catch {
    // unknown
  }
  return undefined;
}
