/**
 * A KHO client modelled on the kernel's lib/test_kho.c: the old kernel
 * fills preserved folios with random bytes and records a table of
 * `phys | order` plus a checksum in its FDT subnode; the next kernel
 * checks that every folio of the table was restored with its order and
 * recomputes the checksum from the surviving bytes.
 *
 * Only the first and the last page of each folio are filled (a 1 GiB folio
 * is too big to fill in a test); the checksum covers exactly those pages.
 *
 * FDT subnode "test-kho": compatible = "kho-test-v1",
 *   folios = u64[] little-endian, each phys | order (order < 4096),
 *   csum   = u32 little-endian.
 */
import { type FdtNode, type FdtNodeSpec, getString } from '../fdt/fdt.ts';
import type { PhysMem } from '../ram/phys-mem.ts';
import { PAGE_SIZE } from '../ram/phys-mem.ts';
import type { Folio } from './kexec.ts';

const NODE = 'test-kho';
const COMPATIBLE = 'kho-test-v1';
export const TEST_KHO_SUCCESS = 'KHO restore succeeded';

function samplePages(f: Folio): number[] {
  const last = f.phys + PAGE_SIZE * (2 ** f.order - 1);
  return last === f.phys ? [f.phys] : [f.phys, last];
}

function checksum(mem: PhysMem, folios: readonly Folio[]): number {
  let h = 0x811c9dc5;
  for (const f of folios) {
    for (const page of samplePages(f)) {
      for (let off = 0; off < PAGE_SIZE; off += 4) h = Math.imul(h ^ mem.load32(page + off), 0x01000193);
    }
  }
  return h >>> 0;
}

/** Old kernel: fills the folios' sample pages from `seed` and returns the client subtree for the FDT. */
export function prepareTestKho(mem: PhysMem, folios: readonly Folio[], seed: number): FdtNodeSpec {
  let x = seed >>> 0 || 1;
  for (const f of folios) {
    for (const page of samplePages(f)) {
      for (let off = 0; off < PAGE_SIZE; off += 4) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        mem.store32(page + off, x >>> 0);
      }
    }
  }
  const table = new Uint8Array(folios.length * 8);
  const view = new DataView(table.buffer);
  folios.forEach((f, i) => {
    const word = f.phys + f.order;
    view.setUint32(i * 8, word >>> 0, true);
    view.setUint32(i * 8 + 4, Math.floor(word / 4294967296), true);
  });
  const csum = new Uint8Array(4);
  new DataView(csum.buffer).setUint32(0, checksum(mem, folios), true);
  return { name: NODE, props: { compatible: COMPATIBLE, folios: table, csum } };
}

/**
 * Next kernel: the verdicts of every test-kho client in the FDT (none if
 * the old kernel registered none). `restored` is [phys, order, ...].
 */
export function verifyTestKho(mem: PhysMem, root: FdtNode, restored: Float64Array): string[] {
  const node = root.children.find((c) => c.name === NODE);
  if (!node) return [];
  if (getString(node, 'compatible') !== COMPATIBLE) return [`test-kho: unknown compatible`];
  const table = node.props.get('folios');
  const csum = node.props.get('csum');
  if (!table || table.length % 8 || !csum || csum.length !== 4) return ['test-kho: malformed client node'];
  const orderOf = new Map<number, number[]>();
  for (let i = 0; i < restored.length; i += 2) {
    const list = orderOf.get(restored[i]);
    if (list) list.push(restored[i + 1]);
    else orderOf.set(restored[i], [restored[i + 1]]);
  }
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const folios: Folio[] = [];
  for (let i = 0; i < table.length; i += 8) {
    const word = view.getUint32(i, true) + view.getUint32(i + 4, true) * 4294967296;
    const order = word % 4096;
    const phys = word - order;
    if (!orderOf.get(phys)?.includes(order)) return [`test-kho: folio 0x${phys.toString(16)} order ${order} not restored`];
    folios.push({ phys, order });
  }
  const want = new DataView(csum.buffer, csum.byteOffset, 4).getUint32(0, true);
  const got = checksum(mem, folios);
  return [got === want ? TEST_KHO_SUCCESS : `test-kho: checksum 0x${got.toString(16)} != 0x${want.toString(16)}`];
}
