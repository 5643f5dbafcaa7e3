/**
 * KHO core's part of the hand-over, the same whatever the tracker: the root
 * FDT, its one page, and the client subtrees hanging under it.
 *
 * The root FDT is one page (KHO_FDT_SIZE = 4096 bytes) in every kernel
 * version: KHO core allocates that page at boot and the page is itself
 * preserved through the tracker, as an order-0 folio (TrackerBase does
 * both). A root FDT that would not fit in it is refused with ENOSPC.
 *
 * Root node: `compatible` (the ABI version), one u64 property holding the
 * physical address of the tracker's memory map (8 raw little-endian bytes,
 * written by the tracker), then one subnode per client, named by the
 * client, whose properties depend on the ABI:
 *
 *   kho-v1 (Linux 6.16 .. 6.19, and the RFC v1 stateless series):
 *     fdt             u64  physical address of the client's own preserved FDT
 *   kho-v2 (the merged radix tree, 2026-04-05):
 *     preserved-data  u64  physical address of the client's preserved blob
 *   kho-v3 (2026-04-18) and kho-v4 (2026-06-03, mainline now):
 *     preserved-data  u64  as in kho-v2
 *     blob-size       u64  the blob's size in bytes (blobs need not be FDTs)
 *
 * kho-v4 also adds linked-block serialization (kho_block) for client data;
 * that is the clients' business and changes nothing here.
 *
 * The next kernel's KHO core finds a client's blob by name
 * (`retrieveSubtree`, the kernel's kho_retrieve_subtree): the property must
 * be exactly 8 bytes, as must blob-size where the ABI has it; anything else
 * is EINVAL, which fails that client only.
 */
import { type FdtNode, type FdtNodeSpec, type FdtValue, getString, u64Prop, writeFdt } from '../fdt/fdt.ts';
import { PAGE_SIZE } from '../ram/phys-mem.ts';
import { KhoError } from './errors.ts';

/** The root KHO FDT is exactly one page. */
export const KHO_FDT_SIZE = PAGE_SIZE;

/** How a client subtree is referenced from the root FDT. */
export type SubtreeAbi = 'fdt' | 'preserved-data' | 'preserved-data+blob-size';

/** What an FDT of one KHO ABI version looks like at the root. */
export interface KhoAbi {
  /** The root node's compatible string. */
  readonly compatible: string;
  /** The properties of a client subnode. */
  readonly subtree: SubtreeAbi;
}

/** Linux 6.16 .. 6.19 and RFC v1: `fdt` subnodes. */
export const KHO_V1: KhoAbi = { compatible: 'kho-v1', subtree: 'fdt' };
/** The merged radix tree as mainline has it now (kho-v4, 2026-06-03): `preserved-data` and `blob-size`. */
export const KHO_V4: KhoAbi = { compatible: 'kho-v4', subtree: 'preserved-data+blob-size' };

export const SUBTREE_FDT = 'fdt';
export const SUBTREE_DATA = 'preserved-data';
export const SUBTREE_SIZE = 'blob-size';

/** A client's blob, registered with KHO core for the root FDT (kho_add_subtree). */
export interface KhoSubtree {
  /** The subnode's name. */
  readonly name: string;
  /** Physical address of the client's preserved blob (its own FDT in kho-v1). */
  readonly phys: number;
  /** The blob's size in bytes (recorded from kho-v3 on). */
  readonly size: number;
}

/** The subnode of one client under the ABI. */
export function subtreeNode(abi: KhoAbi, s: KhoSubtree): FdtNodeSpec {
  if (abi.subtree === 'fdt') return { name: s.name, props: { [SUBTREE_FDT]: u64Prop(s.phys) } };
  if (abi.subtree === 'preserved-data') return { name: s.name, props: { [SUBTREE_DATA]: u64Prop(s.phys) } };
  return { name: s.name, props: { [SUBTREE_DATA]: u64Prop(s.phys), [SUBTREE_SIZE]: u64Prop(s.size) } };
}

/**
 * The root FDT blob: compatible, the tracker's properties, one subnode per
 * client. ENOSPC if it exceeds one page; EEXIST for a client name given
 * twice (kho_add_subtree's -EEXIST); EINVAL for a name an FDT node cannot
 * have.
 */
export function writeRootFdt(abi: KhoAbi, props: Readonly<Record<string, FdtValue>>, clients: readonly KhoSubtree[]): Uint8Array {
  const names = new Set<string>();
  for (const c of clients) {
    if (!/^[A-Za-z0-9,._+-]{1,31}(@[A-Za-z0-9,._+-]+)?$/.test(c.name)) throw new KhoError('EINVAL', `client subtree name "${c.name}" is not an FDT node name`);
    if (names.has(c.name)) throw new KhoError('EEXIST', `client subtree "${c.name}" is already in the root FDT`);
    names.add(c.name);
  }
  const blob = writeFdt({ name: '', props: { compatible: abi.compatible, ...props }, children: clients.map((c) => subtreeNode(abi, c)) });
  if (blob.length > KHO_FDT_SIZE) {
    throw new KhoError('ENOSPC', `the root FDT would take ${blob.length} bytes, more than its one page of ${KHO_FDT_SIZE} (${clients.length} client subtrees)`);
  }
  return blob;
}

/** Where a client's blob is, as the next kernel's kho_retrieve_subtree finds it. */
export interface RetrievedSubtree {
  readonly phys: number;
  /** The recorded size, where the ABI records one. */
  readonly size?: number;
}

/**
 * The next kernel's kho_retrieve_subtree under `abi`: undefined when the
 * root has no subnode `name` (-ENOENT); EINVAL when its properties are not
 * what the ABI says (missing, or not exactly 8 bytes).
 */
export function retrieveSubtree(root: FdtNode, abi: KhoAbi, name: string): RetrievedSubtree | undefined {
  const node = root.children.find((c) => c.name === name);
  if (!node) return undefined;
  const u64 = (prop: string): number => {
    const v = node.props.get(prop);
    if (!v || v.length !== 8) throw new KhoError('EINVAL', `subtree "${name}": property "${prop}" is ${v ? `${v.length} bytes, not 8` : 'missing'}`);
    const view = new DataView(v.buffer, v.byteOffset, 8);
    return view.getUint32(0, true) + view.getUint32(4, true) * 4294967296;
  };
  if (abi.subtree === 'fdt') return { phys: u64(SUBTREE_FDT) };
  if (abi.subtree === 'preserved-data') return { phys: u64(SUBTREE_DATA) };
  return { phys: u64(SUBTREE_DATA), size: u64(SUBTREE_SIZE) };
}

/** The root's compatible string, or undefined when it has none. */
export function rootCompatible(root: FdtNode): string | undefined {
  try {
    return getString(root, 'compatible');
  } catch {
    return undefined;
  }
}

