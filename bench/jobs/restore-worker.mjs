// Worker threads do not inherit tsx's loader on Node 20: register it, then
// load the TypeScript entry. (Runs bundled as restore-worker.mjs otherwise.)
import { register } from 'tsx/esm/api';

register();
await import('./restore-entry.ts');
