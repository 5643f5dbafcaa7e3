/**
 * The benchmark scenarios. Each is seeded and deterministic (same profile
 * and seed, same operations in the same order), states its RAM and what it
 * preserves, and builds a Workload: flat arrays of tracker calls.
 *
 * Unless a scenario says otherwise, the machine is one bank from address 0,
 * the kernel heap takes its default share at the top (Machine), folios are
 * placed in the rest, and the teardown (used only to time unpreserve)
 * unpreserves the live folios in the order they were preserved.
 */
import type { Bank } from '../src/ram/phys-mem.ts';
import { PAGE_SIZE } from '../src/ram/phys-mem.ts';
import { splitRange } from '../src/tracker/tracker.ts';
import { folioHash, type LiveSet, type Phase, type Workload } from '../src/measure/workload.ts';
import { GiB, MiB, SlotSpace, TiB, distinctIndices, formatBytes, workloadBanks } from './placement.ts';
import type { ProfileName } from './profiles.ts';
import { Rng } from './rng.ts';

export const SCENARIO_IDS = [
  'vm-2m',
  'hugetlb-1g',
  'dense-4k',
  'sparse-4k-16m',
  'sparse-4k-128m',
  'random-4k',
  'mixed-test-kho',
  'ranges',
  'churn',
  'high-mem',
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface Scenario {
  readonly id: ScenarioId;
  /** One line: RAM, what is preserved, and how. */
  description(profile: ProfileName): string;
  ramBytes(profile: ProfileName): number;
  workload(profile: ProfileName, seed: number): Workload;
  /**
   * Whether the next kernel has deferred struct page init, and so first
   * initialises every struct page of each restored folio (the default:
   * distribution kernels enable CONFIG_DEFERRED_STRUCT_PAGE_INIT). The
   * restore measures the struct-page work both ways; this picks the one in
   * restore_ms and blackout_ms.
   */
  readonly deferredInit?: boolean;
}

type PerProfile<T> = Readonly<Record<ProfileName, T>>;

/**
 * A size in smoke, and in default and full alike: full adds scenarios,
 * sweeps and sections to the default, not bigger workloads, so that a pair
 * measured by both means the same in both.
 */
function sized(smoke: number, standard: number): PerProfile<number> {
  return { smoke, default: standard, full: standard };
}

function oneBank(size: number): Bank[] {
  return [{ start: 0, size }];
}

/** A preserve phase of single folios, and its live-set bookkeeping. */
function folioPhase(kind: 'preserve' | 'unpreserve', phys: Float64Array, order: Float64Array): Phase {
  return { kind, a: phys, b: order };
}

/** The live set after running `build` on an empty tracker (no duplicate preserves). */
function liveOf(build: readonly Phase[]): LiveSet {
  let folios = 0;
  let bytes = 0;
  let hash = 0;
  for (const p of build) {
    const sign = p.kind === 'unpreserve' ? -1 : 1;
    for (let i = 0; i < p.a.length; i++) {
      if (p.kind === 'range') {
        for (const [pa, order] of splitRange(p.a[i], p.b[i])) {
          folios++;
          bytes += PAGE_SIZE * 2 ** order;
          hash = (hash + folioHash(pa, order)) >>> 0;
        }
      } else {
        folios += sign;
        bytes += sign * PAGE_SIZE * 2 ** p.b[i];
        hash = (hash + sign * folioHash(p.a[i], p.b[i])) >>> 0;
      }
    }
  }
  return { folios, bytes, hash };
}

/** Unpreserves every folio a preserve phase added, in the same order. */
function teardownOf(p: Phase): Phase {
  if (p.kind !== 'range') return folioPhase('unpreserve', p.a, p.b);
  const phys: number[] = [];
  const order: number[] = [];
  for (let i = 0; i < p.a.length; i++) {
    for (const [pa, o] of splitRange(p.a[i], p.b[i])) {
      phys.push(pa);
      order.push(o);
    }
  }
  return folioPhase('unpreserve', Float64Array.from(phys), Float64Array.from(order));
}

function simple(banks: readonly Bank[], phys: Float64Array, order: Float64Array): Workload {
  const build = [folioPhase('preserve', phys, order)];
  return { banks, build, teardown: [teardownOf(build[0])], live: liveOf(build) };
}

/** `n` distinct random slots of one order over the workload RAM of `banks`, in random order. */
function randomSlots(rng: Rng, banks: readonly Bank[], order: number, n: number): Float64Array {
  const space = new SlotSpace(workloadBanks(banks), order);
  const idx = distinctIndices(rng, space.count, n);
  for (let i = 0; i < n; i++) idx[i] = space.phys(idx[i]);
  return idx;
}

function filled(n: number, v: number): Float64Array {
  return new Float64Array(n).fill(v);
}

/** `fraction` of the order-`order` slots of workload RAM, chosen and ordered at random. */
function fillFraction(rng: Rng, banks: readonly Bank[], order: number, fraction: number): Float64Array {
  const space = new SlotSpace(workloadBanks(banks), order);
  return randomSlots(rng, banks, order, Math.floor(space.count * fraction));
}

function slotCount(banks: readonly Bank[], order: number, fraction: number): number {
  return Math.floor(new SlotSpace(workloadBanks(banks), order).count * fraction);
}

// ---------------------------------------------------------------------------

const VM_RAM = sized(8 * GiB, 64 * GiB);
const VM_FILL = 0.9;

const vm2m: Scenario = {
  id: 'vm-2m',
  ramBytes: (p) => VM_RAM[p],
  description: (p) =>
    `${formatBytes(VM_RAM[p])} RAM; ${slotCount(oneBank(VM_RAM[p]), 9, VM_FILL)} 2 MiB folios (order 9) on ${VM_FILL * 100}% ` +
    `of the 2 MiB blocks outside the kernel heap, in random order: guest memory kept across a hypervisor live update`,
  workload(p, seed) {
    const banks = oneBank(VM_RAM[p]);
    const phys = fillFraction(new Rng(seed), banks, 9, VM_FILL);
    return simple(banks, phys, filled(phys.length, 9));
  },
};

const HUGE_RAM = sized(32 * GiB, 256 * GiB);
const HUGE_FILL = 0.75;

const hugetlb1g: Scenario = {
  id: 'hugetlb-1g',
  ramBytes: (p) => HUGE_RAM[p],
  description: (p) =>
    `${formatBytes(HUGE_RAM[p])} RAM; ${slotCount(oneBank(HUGE_RAM[p]), 18, HUGE_FILL)} 1 GiB hugetlb folios (order 18) on ` +
    `${HUGE_FILL * 100}% of the 1 GiB blocks outside the kernel heap, in random order`,
  workload(p, seed) {
    const banks = oneBank(HUGE_RAM[p]);
    const phys = fillFraction(new Rng(seed), banks, 18, HUGE_FILL);
    return simple(banks, phys, filled(phys.length, 18));
  },
};

/** The machine of most scenarios: 64 GiB (16 GiB in smoke, to keep RAM-proportional restores short). */
const STD_RAM = sized(16 * GiB, 64 * GiB);

const DENSE_N = sized(8192, 2 ** 16);
const DENSE_BASE = 1 * GiB;

const dense4k: Scenario = {
  id: 'dense-4k',
  ramBytes: (p) => STD_RAM[p],
  description: (p) =>
    `${formatBytes(STD_RAM[p])} RAM; ${DENSE_N[p]} contiguous 4 KiB pages (order 0, ${formatBytes(DENSE_N[p] * PAGE_SIZE)}) ` +
    `from ${formatBytes(DENSE_BASE)} up, in ascending order`,
  workload(p) {
    const n = DENSE_N[p];
    const phys = new Float64Array(n);
    for (let i = 0; i < n; i++) phys[i] = DENSE_BASE + i * PAGE_SIZE;
    return simple(oneBank(STD_RAM[p]), phys, filled(n, 0));
  },
};

/** One order-0 page at a random offset in each `stride` bytes of workload RAM, in address order. */
function sparse(id: ScenarioId, stride: number, ram: PerProfile<number>): Scenario {
  const count = (p: ProfileName) => Math.floor(workloadBanks(oneBank(ram[p]))[0].size / stride);
  return {
    id,
    ramBytes: (p) => ram[p],
    description: (p) =>
      `${formatBytes(ram[p])} RAM; one 4 KiB page (order 0) at a random offset in every ${formatBytes(stride)} ` +
      `of RAM outside the kernel heap (${count(p)} pages), in address order: the worst case for large bitmaps`,
    workload(p, seed) {
      const rng = new Rng(seed);
      const n = count(p);
      const phys = new Float64Array(n);
      for (let i = 0; i < n; i++) phys[i] = i * stride + rng.below(stride / PAGE_SIZE) * PAGE_SIZE;
      return simple(oneBank(ram[p]), phys, filled(n, 0));
    },
  };
}

const sparse16m = sparse('sparse-4k-16m', 16 * MiB, sized(8 * GiB, 64 * GiB));
const sparse128m = sparse('sparse-4k-128m', 128 * MiB, sized(32 * GiB, 512 * GiB));

const RANDOM_N = sized(4096, 2 ** 16);

const random4k: Scenario = {
  id: 'random-4k',
  ramBytes: (p) => STD_RAM[p],
  description: (p) =>
    `${formatBytes(STD_RAM[p])} RAM; ${RANDOM_N[p]} distinct 4 KiB pages (order 0) drawn uniformly over RAM ` +
    `outside the kernel heap, in draw order`,
  workload: (p, seed) => randomPages(STD_RAM[p], RANDOM_N[p], seed),
};

/** random-4k's workload over `ramBytes` of RAM: `n` distinct order-0 pages outside the kernel heap, in draw order. */
export function randomPages(ramBytes: number, n: number, seed: number): Workload {
  const banks = oneBank(ramBytes);
  const phys = randomSlots(new Rng(seed), banks, 0, n);
  return simple(banks, phys, filled(phys.length, 0));
}

const MIXED_TOTAL = sized(1 * GiB, 8 * GiB);
const MIXED_MAX_ORDER = 10;

/**
 * test_kho's draw: orders uniform in 0..10 until the total size is reached.
 * Placement imitates the buddy allocator: each order carves its folios in
 * address order out of 4 MiB blocks (order 10) taken at random.
 */
function mixedWorkload(p: ProfileName, seed: number): Workload {
  const rng = new Rng(seed);
  const banks = oneBank(STD_RAM[p]);
  const blocks = new SlotSpace(workloadBanks(banks), MIXED_MAX_ORDER);
  const blockOrder = distinctIndices(rng, blocks.count, blocks.count);
  let nextBlock = 0;
  const cursor = new Float64Array(MIXED_MAX_ORDER + 1).fill(-1);
  const left = new Float64Array(MIXED_MAX_ORDER + 1);
  const phys: number[] = [];
  const order: number[] = [];
  let total = 0;
  while (total < MIXED_TOTAL[p]) {
    const o = rng.below(MIXED_MAX_ORDER + 1);
    if (left[o] === 0) {
      cursor[o] = blocks.phys(blockOrder[nextBlock++]);
      left[o] = 2 ** (MIXED_MAX_ORDER - o);
    }
    phys.push(cursor[o]);
    order.push(o);
    cursor[o] += PAGE_SIZE * 2 ** o;
    left[o]--;
    total += PAGE_SIZE * 2 ** o;
  }
  return simple(banks, Float64Array.from(phys), Float64Array.from(order));
}

const mixedTestKho: Scenario = {
  id: 'mixed-test-kho',
  ramBytes: (p) => STD_RAM[p],
  description: (p) =>
    `${formatBytes(STD_RAM[p])} RAM; folios of random order 0..${MIXED_MAX_ORDER} (uniform, as lib/test_kho.c draws them) ` +
    `until ${formatBytes(MIXED_TOTAL[p])} are preserved, carved buddy-like from random 4 MiB blocks`,
  workload: mixedWorkload,
};

const RANGES_RAM = sized(16 * GiB, 64 * GiB);
const RANGES_N = sized(512, 8192);
const RANGE_MAX_PAGES = 4096;

/**
 * preserveRange calls: sizes log-uniform in 1..4096 pages (so mostly not a
 * power of two), starts at page granularity with random gaps, laid out in
 * address order and called in random order.
 */
function rangesWorkload(p: ProfileName, seed: number): Workload {
  const rng = new Rng(seed);
  const banks = oneBank(RANGES_RAM[p]);
  const n = RANGES_N[p];
  const space = workloadBanks(banks)[0];
  const pages = new Float64Array(n);
  let totalPages = 0;
  for (let i = 0; i < n; i++) {
    pages[i] = Math.max(1, Math.floor(Math.exp(rng.float() * Math.log(RANGE_MAX_PAGES + 1))));
    totalPages += pages[i];
  }
  const spare = space.size / PAGE_SIZE - totalPages;
  if (spare < n) throw new Error('ranges scenario does not fit its RAM');
  // Random gaps that share out (at most) half of the spare pages.
  const meanGap = Math.floor(spare / 2 / n);
  const start = new Float64Array(n);
  const size = new Float64Array(n);
  const folios = new Uint32Array(n);
  let pfn = space.start / PAGE_SIZE;
  for (let i = 0; i < n; i++) {
    pfn += 1 + rng.below(2 * meanGap);
    start[i] = pfn * PAGE_SIZE;
    size[i] = pages[i] * PAGE_SIZE;
    let k = 0;
    for (const _ of splitRange(start[i], size[i])) k++;
    folios[i] = k;
    pfn += pages[i];
  }
  rng.shuffle(start, size, folios);
  const build: Phase[] = [{ kind: 'range', a: start, b: size, folios }];
  return { banks, build, teardown: [teardownOf(build[0])], live: liveOf(build) };
}

const ranges: Scenario = {
  id: 'ranges',
  ramBytes: (p) => RANGES_RAM[p],
  description: (p) =>
    `${formatBytes(RANGES_RAM[p])} RAM; ${RANGES_N[p]} preserveRange calls of page-granular, unaligned sizes ` +
    `(log-uniform 1..${RANGE_MAX_PAGES} pages) at random page offsets, split greedily into aligned folios`,
  workload: rangesWorkload,
};

const CHURN_N = sized(4096, 2 ** 16);

/**
 * Preserve N random order-0 pages, unpreserve a random half of them,
 * preserve N/2 new random pages: N live at hand-over, but structures that
 * never free nodes still hold the metadata of 1.5 N.
 */
function churnWorkload(p: ProfileName, seed: number): Workload {
  const rng = new Rng(seed);
  const banks = oneBank(STD_RAM[p]);
  const n = CHURN_N[p];
  const half = n >> 1;
  const all = randomSlots(rng, banks, 0, n + half);
  const first = all.subarray(0, n);
  const gone = Float64Array.from(first);
  rng.shuffle(gone);
  const removed = gone.subarray(0, half);
  const again = all.subarray(n);
  const build: Phase[] = [
    folioPhase('preserve', first, filled(n, 0)),
    folioPhase('unpreserve', removed, filled(half, 0)),
    folioPhase('preserve', again, filled(half, 0)),
  ];
  const kept = gone.subarray(half);
  const teardown: Phase[] = [folioPhase('unpreserve', kept, filled(kept.length, 0)), folioPhase('unpreserve', again, filled(half, 0))];
  return { banks, build, teardown, live: liveOf(build) };
}

const churn: Scenario = {
  id: 'churn',
  ramBytes: (p) => STD_RAM[p],
  description: (p) =>
    `${formatBytes(STD_RAM[p])} RAM; preserve ${CHURN_N[p]} random 4 KiB pages, unpreserve a random half, ` +
    `preserve ${CHURN_N[p] >> 1} new random pages (${CHURN_N[p]} live at hand-over)`,
  workload: churnWorkload,
};

const HIGH_BANK = sized(4 * GiB, 64 * GiB);
const HIGH_STARTS = [0, 1 * TiB, 64 * TiB, 2 ** 50];
const HIGH_N = sized(4096, 2 ** 16);

function highBanks(p: ProfileName): Bank[] {
  return HIGH_STARTS.map((start) => ({ start, size: HIGH_BANK[p] }));
}

const highMem: Scenario = {
  id: 'high-mem',
  ramBytes: (p) => HIGH_STARTS.length * HIGH_BANK[p],
  description: (p) =>
    `${HIGH_STARTS.length} NUMA-like nodes of ${formatBytes(HIGH_BANK[p])} at ${HIGH_STARTS.map(formatBytes).join(', ')}; ` +
    `${HIGH_N[p]} random 4 KiB pages in the nodes above 1 TiB (kernel heap on the top node), so the upper tree levels matter`,
  workload(p, seed) {
    const banks = highBanks(p);
    const high = workloadBanks(banks).filter((b) => b.start >= 1 * TiB);
    const space = new SlotSpace(high, 0);
    const phys = distinctIndices(new Rng(seed), space.count, HIGH_N[p]);
    for (let i = 0; i < phys.length; i++) phys[i] = space.phys(phys[i]);
    return simple(banks, phys, filled(phys.length, 0));
  },
};

export const SCENARIOS: Readonly<Record<ScenarioId, Scenario>> = {
  'vm-2m': vm2m,
  'hugetlb-1g': hugetlb1g,
  'dense-4k': dense4k,
  'sparse-4k-16m': sparse16m,
  'sparse-4k-128m': sparse128m,
  'random-4k': random4k,
  'mixed-test-kho': mixedTestKho,
  ranges,
  churn,
  'high-mem': highMem,
};

export function isScenarioId(s: string): s is ScenarioId {
  return (SCENARIO_IDS as readonly string[]).includes(s);
}

// ---------------------------------------------------------------------------
// Sweeps: random order-0 pages, varying either their number or the RAM size.

export type SweepAxis = 'folios' | 'ram';

/** The workload of one sweep point: `n` random order-0 pages on `ram` bytes of RAM. */
export function sweepWorkload(n: number, ram: number, seed: number): Workload {
  const banks = oneBank(ram);
  const phys = randomSlots(new Rng(seed), banks, 0, n);
  return simple(banks, phys, filled(n, 0));
}

export function sweepDescription(n: number, ram: number): string {
  return `${n} random 4 KiB pages on ${formatBytes(ram)} RAM`;
}
