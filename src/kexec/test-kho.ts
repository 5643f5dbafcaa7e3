/**
 * The kernel's own KHO test (lib/test_kho.c), as a client of the simulated
 * KHO: the old kernel fills random-order folios with random bytes, keeps
 * their table in a preserved vmalloc area and its checksum in its own FDT;
 * the next kernel finds everything from the root FDT alone, through the
 * memory the tracker restored, and prints "KHO restore succeeded" or
 * "KHO restore failed".
 *
 * Old kernel (`saveTestKho`, kho_test_save):
 *   1. folios of random orders 0..10 (get_random_u32() % NR_PAGE_ORDERS),
 *      up to max_mem bytes (default (PAGE_SIZE << MAX_PAGE_ORDER) * 2 =
 *      8 MiB; near the end the order shrinks to fit), from the page
 *      allocator; each whole folio filled with random bytes and checksummed;
 *   2. the client FDT's folio: order get_order(nr_folios * 8 + 4096), from
 *      the page allocator, preserved;
 *   3. folios_info, a vmalloc array of nr_folios u64 `phys | order`,
 *      preserved with kho_preserve_vmalloc (vmalloc.ts: chunk pages and the
 *      area's pages, all from ordinary RAM, all preserved in the tracker);
 *      then every folio preserved;
 *   4. the client FDT, in its folio:
 *        / { compatible = "kho-test-v1"; magic = <u32 0x4b484f21>;
 *            data { nr_folios = <u32>; folios_info = <16 bytes: struct
 *                   kho_vmalloc>; csum = <u32>; }; }
 *      (u32 and the struct as raw little-endian bytes, as fdt_property
 *      writes them from native variables);
 *   5. kho_add_subtree("kho_test", fdt): the root FDT's subnode `kho_test`
 *      points at that folio (`fdt` in kho-v1, `preserved-data` and
 *      `blob-size` in kho-v4: see kho-abi.ts).
 *
 * Next kernel (`verifyTestKho`, kho_test_restore): kho_retrieve_subtree,
 * then the compatible and the magic, nr_folios, csum and folios_info of
 * /data, kho_restore_vmalloc of the table, and for each entry
 * kho_restore_folio (the folio must head a preserved folio of that order)
 * and the checksum of the whole folio; the verdict is TEST_KHO_SUCCESS or
 * "KHO restore failed: <why>".
 *
 * The checksum is csum_partial's arithmetic: a 32-bit ones'-complement sum
 * (end-around carry) of the folio's little-endian u32 words, carried from
 * folio to folio.
 *
 * Departures: the random bytes come from a seeded xorshift (the test must
 * be reproducible); a failed save unpreserves what it preserved only where
 * the tracker's kernel exports unpreserve (see vmalloc.ts); the folios may
 * be given instead of drawn (`options.folios`), for tests that need
 * particular addresses.
 */
import { type FdtNode, readFdt, writeFdt } from '../fdt/fdt.ts';
import type { PhysMem } from '../ram/phys-mem.ts';
import { PAGE_SIZE } from '../ram/phys-mem.ts';
import { KhoError, isKhoError } from '../tracker/errors.ts';
import { type KhoSubtree, retrieveSubtree, rootCompatible } from '../tracker/kho-abi.ts';
import type { Tracker } from '../tracker/tracker.ts';
import { abiOfCompatible } from '../../structures/index.ts';
import type { Folio } from './kexec.ts';
import { MAX_PAGE_ORDER, RamAllocator, RestoredPages, decodeVmallocDesc, preserveVmalloc, restoreVmalloc, vmalloc } from './vmalloc.ts';

export const KHO_TEST_MAGIC = 0x4b484f21;
export const KHO_TEST_FDT = 'kho_test';
export const KHO_TEST_COMPAT = 'kho-test-v1';
export const TEST_KHO_SUCCESS = 'KHO restore succeeded';
export const TEST_KHO_FAILURE = 'KHO restore failed';
/** lib/test_kho.c's max_mem default: (PAGE_SIZE << MAX_PAGE_ORDER) * 2. */
export const TEST_KHO_MAX_MEM = (PAGE_SIZE << MAX_PAGE_ORDER) * 2;
/** The client FDT's size bound, past which reading it is refused. */
const MAX_CLIENT_FDT = 16 * 2 ** 20;

export interface TestKhoOptions {
  /** Seed of the random orders and bytes. */
  readonly seed: number;
  /** Bytes of folios to draw (default 8 MiB, as the kernel's max_mem). */
  readonly maxMem?: number;
  /** The highest order drawn (default MAX_PAGE_ORDER, 10: NR_PAGE_ORDERS - 1). */
  readonly maxOrder?: number;
  /** Use these folios instead of drawing them (each must be free workload RAM). */
  readonly folios?: readonly Folio[];
  /** Workload RAM already in use (never handed out). */
  readonly inUse?: readonly Folio[];
}

/** What the old kernel's test leaves for the hand-over. */
export interface TestKho {
  /** The root FDT's subnode for this client. */
  readonly subtree: KhoSubtree;
  /** The data folios, in table order. */
  readonly folios: readonly Folio[];
  /** Every folio the client preserved (its FDT folio, the vmalloc chunks and pages, the data folios): their contents must cross. */
  readonly preserved: readonly Folio[];
  /** Physical address of the client FDT's folio. */
  readonly fdtPhys: number;
  /** Physical address of each page of the folios_info vmalloc area. */
  readonly tablePages: readonly number[];
}

/** A 32-bit ones'-complement accumulation over `words` u32 words at word index `base` (csum_partial's arithmetic). */
function csumWords(mem: PhysMem, base: number, words: number, sum: number): number {
  for (let w = 0; w < words; w++) {
    sum += mem.ld(base + w) >>> 0;
    if (sum >= 4294967296) sum -= 4294967295;
  }
  return sum;
}

function csumFolio(mem: PhysMem, f: Folio, sum: number): number {
  for (let p = 0; p < 2 ** f.order; p++) sum = csumWords(mem, mem.base(f.phys + p * PAGE_SIZE), PAGE_SIZE / 4, sum);
  return sum;
}

/** get_order(size): the order of the smallest folio holding `size` bytes. */
function getOrder(size: number): number {
  let order = 0;
  while (PAGE_SIZE * 2 ** order < size) order++;
  return order;
}

/** Writes `bytes` at `pa` (page by page; the tail of the last word zero-padded). */
function writeBytes(mem: PhysMem, pa: number, bytes: Uint8Array): void {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  for (let off = 0; off < padded.length; off += 4) mem.store32(pa + off, view.getUint32(off, true));
}

function readBytes(mem: PhysMem, pa: number, n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 4) * 4);
  const view = new DataView(out.buffer);
  for (let off = 0; off < out.length; off += 4) view.setUint32(off, mem.load32(pa + off), true);
  return out.subarray(0, n);
}

/** Old kernel: kho_test_save on `tracker`, drawing its memory from the machine's workload RAM. */
export function saveTestKho(tracker: Tracker, options: TestKhoOptions): TestKho {
  const machine = tracker.heap.machine;
  const mem = machine.mem;
  const alloc = new RamAllocator(machine, [...(options.inUse ?? []), ...(options.folios ?? [])]);
  let x = options.seed >>> 0 || 1;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };

  // kho_test_generate_data.
  const folios: Folio[] = [];
  if (options.folios) {
    folios.push(...options.folios);
  } else {
    const maxMem = options.maxMem ?? TEST_KHO_MAX_MEM;
    const orders = (options.maxOrder ?? MAX_PAGE_ORDER) + 1;
    for (let allocSize = 0; allocSize < maxMem; ) {
      let order = rand() % orders;
      if (allocSize + PAGE_SIZE * 2 ** order > maxMem) {
        order = getOrder(maxMem - allocSize);
        if (order) order--;
      }
      folios.push({ phys: alloc.alloc(order), order });
      allocSize += PAGE_SIZE * 2 ** order;
    }
  }
  let csum = 0;
  for (const f of folios) {
    for (let p = 0; p < 2 ** f.order; p++) {
      const base = mem.wbase(f.phys + p * PAGE_SIZE);
      for (let w = 0; w < PAGE_SIZE / 4; w++) mem.st(base + w, rand() | 0);
    }
    csum = csumFolio(mem, f, csum);
  }

  // kho_test_preserve: the FDT folio, the table, the folios.
  const preserved: Folio[] = [];
  const keep = (f: Folio) => {
    tracker.preserve(f.phys, f.order);
    preserved.push(f);
  };
  try {
    const fdtSize = folios.length * 8 + PAGE_SIZE;
    const fdtFolio = { phys: alloc.alloc(getOrder(fdtSize)), order: getOrder(fdtSize) };
    keep(fdtFolio);
    const area = vmalloc(alloc, folios.length * 8);
    const table = preserveVmalloc(tracker, alloc, area);
    preserved.push(...table.preserved);
    folios.forEach((f, i) => {
      const pa = area.pages[Math.floor((i * 8) / PAGE_SIZE)] + ((i * 8) % PAGE_SIZE);
      mem.store64(pa, f.phys + f.order);
    });
    for (const f of folios) keep(f);

    // kho_test_prepare_fdt.
    const u32 = (v: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, v >>> 0, true);
      return b;
    };
    const blob = writeFdt({
      name: '',
      props: { compatible: KHO_TEST_COMPAT, magic: u32(KHO_TEST_MAGIC) },
      children: [{ name: 'data', props: { nr_folios: u32(folios.length), folios_info: table.desc, csum: u32(csum) } }],
    });
    if (blob.length > fdtSize) throw new KhoError('ENOSPC', `kho_test: the client FDT needs ${blob.length} bytes, its folio holds ${fdtSize}`);
    writeBytes(mem, fdtFolio.phys, blob);
    return {
      subtree: { name: KHO_TEST_FDT, phys: fdtFolio.phys, size: blob.length },
      folios,
      preserved,
      fdtPhys: fdtFolio.phys,
      tablePages: area.pages,
    };
  } catch (e) {
    if (tracker.lifecycle.unpreserve) for (const f of preserved) tracker.unpreserve(f.phys, f.order);
    throw e;
  }
}

/**
 * Next kernel: the verdict of the test_kho client found in the root FDT
 * (none when the old kernel registered none). `restored` is the restore
 * walk's [phys, order, ...]; `mem` the memory rebuilt from the image.
 */
export function verifyTestKho(mem: PhysMem, root: FdtNode, restored: Float64Array): string[] {
  const abi = abiOfCompatible(rootCompatible(root));
  if (!abi) return [];
  try {
    const sub = retrieveSubtree(root, abi, KHO_TEST_FDT);
    if (!sub) return [];
    return [restoreTestKho(mem, sub.phys, sub.size, new RestoredPages(restored))];
  } catch (e) {
    if (isKhoError(e)) return [`${TEST_KHO_FAILURE}: ${e.message}`];
    throw e;
  }
}

function restoreTestKho(mem: PhysMem, fdtPhys: number, size: number | undefined, pages: RestoredPages): string {
  const failed = (why: string) => `${TEST_KHO_FAILURE}: ${why}`;
  if (!mem.contains(fdtPhys, 40)) return failed(`client FDT at 0x${fdtPhys.toString(16)} is outside RAM`);
  const header = readBytes(mem, fdtPhys, 8);
  const total = size ?? new DataView(header.buffer).getUint32(4);
  if (total > MAX_CLIENT_FDT || !mem.contains(fdtPhys, total)) return failed(`client FDT of ${total} bytes does not fit in RAM`);
  let fdt: FdtNode;
  try {
    fdt = readFdt(readBytes(mem, fdtPhys, total));
  } catch (e) {
    return failed(`client FDT: ${(e as Error).message}`);
  }
  const compat = fdt.props.get('compatible');
  if (!compat || Buffer.from(compat).toString('latin1') !== `${KHO_TEST_COMPAT}\0`) return failed('client FDT is not kho-test-v1');
  const u32 = (node: FdtNode, name: string): number | undefined => {
    const v = node.props.get(name);
    return v && v.length === 4 ? new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true) : undefined;
  };
  if (u32(fdt, 'magic') !== KHO_TEST_MAGIC) return failed('bad magic');
  const data = fdt.children.find((c) => c.name === 'data');
  const nrFolios = data && u32(data, 'nr_folios');
  const oldCsum = data && u32(data, 'csum');
  const info = data?.props.get('folios_info');
  if (nrFolios === undefined || oldCsum === undefined || !info || info.length !== 16) return failed('malformed /data node');
  const table = restoreVmalloc(mem, decodeVmallocDesc(info), pages);
  if (nrFolios * 8 > table.length * PAGE_SIZE) return failed(`folios_info holds ${table.length} pages, too few for ${nrFolios} folios`);
  let csum = 0;
  for (let i = 0; i < nrFolios; i++) {
    const entry = mem.load64(table[Math.floor((i * 8) / PAGE_SIZE)] + ((i * 8) % PAGE_SIZE));
    const order = entry % PAGE_SIZE;
    const phys = entry - order;
    const got = pages.restoreFolio(phys);
    // The kernel breaks out of its loop here, and the checksum then differs.
    if (got < 0) return failed(`folio 0x${phys.toString(16)} order ${order} not restored`);
    if (got !== order) return failed(`folio 0x${phys.toString(16)} restored with order ${got}, not ${order}`);
    csum = csumFolio(mem, { phys, order }, csum);
  }
  return csum === oldCsum ? TEST_KHO_SUCCESS : failed(`checksum 0x${csum.toString(16)} != 0x${oldCsum.toString(16)}`);
}
