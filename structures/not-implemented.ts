import { KhoError } from '../src/tracker/errors.ts';
import type { StructureId } from '../src/tracker/tracker.ts';
import type { StructureSpec } from './index.ts';

/** Placeholder until the structure lands. */
export function notImplemented(id: StructureId, folder: string): StructureSpec {
  const fail = (): never => {
    throw new KhoError('ENOEXEC', `structure ${id} is not implemented yet`);
  };
  return { id, title: id, folder, create: fail, restore: fail };
}
