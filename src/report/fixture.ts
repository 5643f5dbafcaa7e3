/**
 * A synthetic, schema-valid results file (schema version 2) for the
 * report's tests, and for looking at the report before a real run exists.
 *
 * The numbers come from a small cost model of each format, so that they
 * have the shapes a run has: page-sized leaves cost a page per folio on
 * sparse memory, serialization grows with the number of bitmaps, the walk
 * of a tree that reads whole pages costs more lines per folio, memblock
 * inserts in the middle when orders are mixed, every measured time is the
 * mean of per-process values with their spread. They are made up all the
 * same, and say nothing about the kernel.
 */
import { hostSlowdown } from '../measure/calibration.ts';
import { PAIR_METRICS, metricDef } from '../results/metrics.ts';
import {
  type Calibration,
  type MetricValue,
  type ModelFigures,
  type PairResult,
  RESULTS_SCHEMA_VERSION,
  type Results,
  type SweepFit,
  type SweepPoint,
} from '../results/schema.ts';
import { fitPowerLaw, normalDeviate, processInterval, processSpread, seededUniform, spreadWarning, tQuantile, tukeyOutliers, type Uniform } from '../stats/index.ts';
import { familyParams } from './design-space.ts';

export const FIXTURE_STRUCTURES = ['flat-bitmap', 'xarray-6.16', 'xarray-6.18', 'xarray-6.19', 'ida', 'radix-rfc', 'radix'] as const;

/** The two designs offered on the list and never built in a kernel: in the fixture only with a design space (see FixtureOptions). */
export const FIXTURE_PROPOSALS = ['xarray-prealloc', 'kho-array'] as const;

/** The family's 32 ids (structures/family), spelled here so that the fixture needs none of the trackers' code. */
export const FIXTURE_FAMILY: readonly string[] = [64, 128, 512, 4096].flatMap((l) =>
  [64, 512].flatMap((f) => ['key', 'perorder'].flatMap((e) => ['bitmap', 'extent'].map((k) => `fam-l${l}-f${f}-${e}-${k}`))),
);

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PAGE = 4096;

type Layout = 'regular' | 'random';

interface ScenarioShape {
  id: string;
  description: string;
  ramBytes: number;
  folios: number;
  /** The typical order, and how many orders the folios spread over. */
  order: number;
  orders: number;
  layout: Layout;
  /** Bytes between consecutive folios (regular layouts). */
  gap: number;
  /** Share of the folios above order 9, which RFC v1 cannot represent. */
  aboveOrder9: number;
}

function scenario(
  id: string,
  description: string,
  ramBytes: number,
  folios: number,
  order: number,
  layout: Layout,
  gap: number,
  extra: Partial<Pick<ScenarioShape, 'orders' | 'aboveOrder9'>> = {},
): ScenarioShape {
  return { id, description, ramBytes, folios, order, orders: extra.orders ?? 1, layout, gap, aboveOrder9: extra.aboveOrder9 ?? 0 };
}

/** The default profile's scenarios (bench/README.md), and the smoke profile's smaller ones. */
const DEFAULT_SCENARIOS: readonly ScenarioShape[] = [
  scenario('vm-2m', '90% of the 2 MiB blocks outside the kernel heap, order 9, random order', 256 * GiB, 110592, 9, 'regular', (2 * MiB) / 0.9),
  scenario('hugetlb-1g', '75% of the 1 GiB blocks, order 18, random order', 256 * GiB, 180, 18, 'regular', GiB / 0.75, { aboveOrder9: 1 }),
  scenario('dense-4k', 'contiguous order-0 pages from 1 GiB up, ascending', 64 * GiB, 262144, 0, 'regular', PAGE),
  scenario('sparse-4k-16m', 'one order-0 page at a random offset in every 16 MiB, ascending', 64 * GiB, 3840, 0, 'regular', 16 * MiB),
  scenario('sparse-4k-128m', 'one order-0 page at a random offset in every 128 MiB, ascending', 512 * GiB, 3840, 0, 'regular', 128 * MiB),
  scenario('random-4k', 'distinct order-0 pages uniform over RAM, in draw order', 64 * GiB, 65536, 0, 'random', 0),
  scenario('mixed-test-kho', 'orders uniform in 0..10 until a total size, as lib/test_kho.c draws them', 64 * GiB, 11296, 5, 'random', 0, { orders: 11, aboveOrder9: 1 / 11 }),
  scenario('ranges', 'preserveRange calls of log-uniform 1..4096 pages, split greedily', 64 * GiB, 49334, 3, 'random', 0, { orders: 11, aboveOrder9: 0.02 }),
  scenario('churn', 'preserve N random pages, unpreserve half, preserve N/2 new ones', 64 * GiB, 65536, 0, 'random', 0),
  scenario('high-mem', 'four NUMA nodes at 0, 1 TiB, 64 TiB and 1 PiB; pages above 1 TiB', 256 * GiB, 65536, 0, 'random', 0),
];

const SMOKE_SIZES: Readonly<Record<string, { ramBytes: number; folios: number }>> = {
  'vm-2m': { ramBytes: 8 * GiB, folios: 3456 },
  'hugetlb-1g': { ramBytes: 32 * GiB, folios: 22 },
  'dense-4k': { ramBytes: 16 * GiB, folios: 8192 },
  'sparse-4k-16m': { ramBytes: 8 * GiB, folios: 480 },
  'sparse-4k-128m': { ramBytes: 32 * GiB, folios: 240 },
  'random-4k': { ramBytes: 16 * GiB, folios: 4096 },
  'mixed-test-kho': { ramBytes: 16 * GiB, folios: 1404 },
  ranges: { ramBytes: 16 * GiB, folios: 3079 },
  churn: { ramBytes: 16 * GiB, folios: 4096 },
  'high-mem': { ramBytes: 16 * GiB, folios: 4096 },
};

export const FIXTURE_SCENARIOS: readonly string[] = DEFAULT_SCENARIOS.map((s) => s.id);

/** How each format is laid out, and what JavaScript adds on top of the memory work. */
interface Format {
  /** Folios per leaf, bytes per leaf object, leaf objects per page. */
  leafBits: number;
  leafBytes: number;
  /** Entries per interior node, node bytes, interior levels above the leaves. */
  fanout: number;
  nodeBytes: number;
  levels: number;
  /** One tree per order (RFC v1) or per-order structures (xarray, IDA), versus one tree for all orders. */
  perOrder: boolean;
  serializes: boolean;
  /** Lines the restore reads of a leaf and of a node (a page table is scanned whole). */
  leafLines: number;
  nodeLines: number;
  /** Model ns of one preserve with hot caches (index arithmetic, lock or atomic). */
  hotNs: number;
  /** JavaScript's own cost per preserve and per restored folio (ns), which the model does not see. */
  jsPreserve: number;
  jsWalk: number;
  /** Objects carved from whole pages and handed over as pages (the family): the bytes are the pages'. */
  packed?: boolean;
  /** Leaves are run lists (family extents): the walk reads the runs only, until a list outgrows its leaf. */
  extent?: boolean;
  /** A preserve at a random position moves half a block of runs (kho-array). */
  shifts?: boolean;
  /** Serialization writes into pages held since preserve (xarray-prealloc): no page is taken at kexec. */
  preallocated?: boolean;
}

const FORMATS: Readonly<Record<string, Format>> = {
  'flat-bitmap': { leafBits: 0, leafBytes: 0, fanout: 1, nodeBytes: 0, levels: 0, perOrder: true, serializes: false, leafLines: 0, nodeLines: 0, hotNs: 3, jsPreserve: 9, jsWalk: 6 },
  'xarray-6.16': { leafBits: 4096, leafBytes: 512, fanout: 64, nodeBytes: 576, levels: 2, perOrder: true, serializes: true, leafLines: 8, nodeLines: 0, hotNs: 17, jsPreserve: 62, jsWalk: 14 },
  'xarray-6.18': { leafBits: 32768, leafBytes: 4096, fanout: 64, nodeBytes: 576, levels: 2, perOrder: true, serializes: true, leafLines: 64, nodeLines: 0, hotNs: 16, jsPreserve: 58, jsWalk: 13 },
  'xarray-6.19': { leafBits: 32768, leafBytes: 4096, fanout: 64, nodeBytes: 576, levels: 2, perOrder: true, serializes: true, leafLines: 64, nodeLines: 0, hotNs: 15, jsPreserve: 56, jsWalk: 13 },
  ida: { leafBits: 1024, leafBytes: 128, fanout: 64, nodeBytes: 576, levels: 3, perOrder: true, serializes: false, leafLines: 2, nodeLines: 9, hotNs: 14, jsPreserve: 50, jsWalk: 16 },
  'radix-rfc': { leafBits: 32768, leafBytes: 4096, fanout: 512, nodeBytes: 4096, levels: 5, perOrder: true, serializes: false, leafLines: 64, nodeLines: 64, hotNs: 12, jsPreserve: 38, jsWalk: 11 },
  radix: { leafBits: 32768, leafBytes: 4096, fanout: 512, nodeBytes: 4096, levels: 5, perOrder: false, serializes: false, leafLines: 64, nodeLines: 64, hotNs: 19, jsPreserve: 44, jsWalk: 11 },
  'xarray-prealloc': { leafBits: 32768, leafBytes: 4096, fanout: 64, nodeBytes: 576, levels: 2, perOrder: true, serializes: true, leafLines: 64, nodeLines: 0, hotNs: 15, jsPreserve: 57, jsWalk: 13, preallocated: true },
  // Runs of 8 bytes in page-sized blocks (shapeOfRuns): leaf and node fields describe one block.
  'kho-array': { leafBits: 0, leafBytes: PAGE, fanout: 255, nodeBytes: PAGE, levels: 1, perOrder: false, serializes: false, leafLines: 0, nodeLines: 1, hotNs: 21, jsPreserve: 70, jsWalk: 9, shifts: true },
};

/**
 * A family point's format from its id (structures/family/README.md): leaves of L bytes (8L bits), tables
 * of F entries (8F bytes), as many tables as cover the key (53 bits) or, per order, a u64 address; each
 * level a dependent load the preserve waits on. fam-l4096-f512-key-bitmap comes out as radix, field for
 * field, as the family's README says it is.
 */
function familyFormat(id: string, order: number): Format | undefined {
  const params = familyParams(id);
  if (!params) return undefined;
  const { leafBytes, fanout } = params;
  const perOrder = params.encoding === 'perorder';
  const extent = params.leafKind === 'extent';
  const lb = Math.log2(8 * leafBytes);
  const tb = Math.log2(fanout);
  const levels = Math.ceil(((perOrder ? 52 - order : 53) - lb) / tb);
  return {
    leafBits: 8 * leafBytes,
    leafBytes,
    fanout,
    nodeBytes: 8 * fanout,
    levels,
    perOrder,
    serializes: false,
    leafLines: leafBytes / 64,
    nodeLines: fanout / 8,
    hotNs: 19 + (levels - 5) * 1.5 + (extent ? 6 : 0),
    jsPreserve: 44 + (levels - 5) * 2 + (extent ? 10 : 0),
    jsWalk: 11,
    packed: true,
    extent,
  };
}

function formatOf(st: string, order: number): Format {
  return familyFormat(st, order) ?? FORMATS[st] ?? FORMATS.radix;
}

/** Model constants of the EPYC 9654 file: DRAM latency, ns per streamed line at 40 GB/s, LLC size. */
const DRAM_NS = 115;
const LINE_NS = 64 / 40;
const LLC_BYTES = 32 * MiB;

/** Objects needed to cover `folios` folios placed as the scenario places them, one object per `cover` bytes. */
function cells(sc: ScenarioShape, folios: number, cover: number): number {
  if (sc.layout === 'regular') return sc.gap >= cover ? folios : Math.max(1, Math.ceil((folios * sc.gap) / cover));
  const windows = Math.max(1, sc.ramBytes / cover);
  return Math.max(1, windows * (1 - Math.exp(-folios / windows)));
}

interface Shape {
  leaves: number;
  nodes: number;
  chunks: number;
  bytes: number;
  pages: number;
  restorePages: number;
  walkLines: number;
  /** Pages allocated (and zeroed) per preserved folio. */
  newPagesPerFolio: number;
}

/** Runs a set of folios makes: one per stretch of adjacent folios. */
function runsOf(sc: ScenarioShape): number {
  const folioBytes = PAGE * 2 ** sc.order;
  if (sc.layout === 'regular') return sc.gap <= folioBytes ? sc.orders : sc.folios;
  // Random: a folio starts a run unless the one below it is preserved too.
  return Math.max(sc.orders, sc.folios * (1 - (sc.folios * folioBytes) / sc.ramBytes));
}

/** kho-array: 8-byte runs in page blocks, half full after ascending inserts (splits 256 + 256), three quarters at random; an index block per 128 children. */
function shapeOfRuns(sc: ScenarioShape): Shape {
  const runs = runsOf(sc);
  const leaves = Math.ceil(runs / (sc.layout === 'regular' ? 256 : 384));
  const nodes = leaves > 1 ? Math.ceil(leaves / 128) : 0;
  const pages = leaves + nodes;
  return {
    leaves,
    nodes,
    chunks: 0,
    bytes: pages * PAGE,
    pages,
    restorePages: pages,
    walkLines: ((runs * 8) / 64 + pages) / sc.folios,
    newPagesPerFolio: pages / sc.folios,
  };
}

function shapeOf(st: string, sc: ScenarioShape): Shape {
  const f = formatOf(st, sc.order);
  const F = sc.folios;
  if (f.shifts) return shapeOfRuns(sc);
  if (st === 'flat-bitmap') {
    // One bit per folio per order over all of RAM: orders 0..18 add up to about two bits per page.
    const bytes = Math.ceil(sc.ramBytes / PAGE / 8 / PAGE) * PAGE * 2;
    return { leaves: 1, nodes: 0, chunks: 0, bytes, pages: bytes / PAGE, restorePages: bytes / PAGE, walkLines: bytes / 64 / F, newPagesPerFolio: 0 };
  }
  const trees = f.perOrder ? sc.orders : 1;
  const perTree = F / trees;
  const cover = f.leafBits * PAGE * 2 ** sc.order;
  let leaves = 0;
  let nodes = 0;
  for (let t = 0; t < trees; t++) {
    const l = cells(sc, perTree, cover);
    leaves += l;
    for (let k = 1; k <= f.levels; k++) nodes += cells(sc, perTree, cover * f.fanout ** k);
  }
  leaves = Math.round(leaves);
  // RFC v1 and the family's per-order points keep an order table above the trees.
  nodes = Math.round(nodes) + (st === 'radix-rfc' || (f.packed && f.perOrder) ? 1 : 0);
  const chunks = f.serializes ? Math.max(trees, Math.ceil(leaves / 255)) : 0;
  const objectBytes = f.packed
    ? (Math.ceil((leaves * f.leafBytes) / PAGE) + Math.ceil((nodes * f.nodeBytes) / PAGE)) * PAGE
    : leaves * f.leafBytes + nodes * f.nodeBytes + (st === 'ida' ? PAGE : 0);
  const bytes = objectBytes + chunks * PAGE;
  const pages = Math.ceil(objectBytes / PAGE) + chunks;
  // An extent leaf is read up to the end of its runs, unless they outgrew it and it became a bitmap.
  const runsPerLeaf = runsOf(sc) / trees / Math.max(1, leaves / trees);
  const leafLines = f.extent && runsPerLeaf * 8 <= f.leafBytes ? Math.max(1, Math.ceil((runsPerLeaf * 8) / 64)) : f.leafLines;
  const walkLines = (leaves * leafLines + nodes * f.nodeLines + chunks * 64) / F;
  const pagedLeaves = f.leafBytes >= PAGE ? leaves : leaves * (f.leafBytes / PAGE);
  return {
    leaves,
    nodes,
    chunks,
    bytes,
    pages,
    restorePages: f.serializes ? Math.ceil((leaves * f.leafBytes) / PAGE) + chunks : pages,
    walkLines,
    // xarray-prealloc takes its chunk pages in preserve, as the bitmaps they will list appear.
    newPagesPerFolio: (pagedLeaves + (f.nodeBytes >= PAGE ? nodes : (nodes * f.nodeBytes) / PAGE) + (f.preallocated ? chunks : 0)) / F,
  };
}

interface Costs {
  /** Exact and model figures. */
  exact: Record<string, number>;
  /** Measured figures: the mean a process would see, before noise. */
  measured: Record<string, number>;
  model: NonNullable<PairResult['model']>;
  lost: number;
}

function modelFigures(ops: number, ns: number, dram: number, chain: number, atomics: number, instructions: number): ModelFigures {
  return { ops, l1: chain * 1.6, l2: chain * 0.3 + dram * 0.2, llc: dram * 0.1, dram, tlbMisses: dram * 0.02, maxChain: Math.ceil(chain * 1.5), chain, atomics, instructions, ns };
}

function costsOf(st: string, sc: ScenarioShape): Costs {
  const f = formatOf(st, sc.order);
  const s = shapeOf(st, sc);
  const F = sc.folios;
  const lost = st === 'radix-rfc' ? Math.round(F * sc.aboveOrder9) : 0;
  const restored = F - lost;
  // Preserve: a new page is zeroed (64 lines streamed after one miss); a tree bigger than the LLC misses on its path.
  const coldPath = s.bytes > LLC_BYTES ? Math.min(f.levels + 1, 2) : 0.05;
  const dramPerPreserve = s.newPagesPerFolio * 64 + coldPath;
  // Inserting a run in the middle of a block moves half of it (32 lines), at random positions only.
  const shiftNs = f.shifts && sc.layout === 'random' ? 32 * LINE_NS : 0;
  const preserveModel = f.hotNs + shiftNs + s.newPagesPerFolio * (DRAM_NS + 64 * LINE_NS) + coldPath * DRAM_NS * 0.6;
  const linesPerPreserve = (st === 'flat-bitmap' ? 1 : f.levels + 2) + s.newPagesPerFolio * 64;
  const pagesPerPreserve = st === 'flat-bitmap' ? 1 : f.levels + 1 + (f.serializes ? 1 : 0);
  // Restore: the walk streams the lines it reads, and waits on one miss per page it enters.
  const walkModel = restored > 0 ? s.walkLines * LINE_NS + (s.restorePages / Math.max(1, restored)) * DRAM_NS + 1.5 : 0;
  const regions = sc.layout === 'regular' && sc.gap <= PAGE * 2 ** sc.order ? 1 : Math.round(restored * (sc.order >= 9 ? 0.3 : 0.9));
  // Several orders: each order's folios go in among the ones before, moving the tail; the page-table trees (radix, RFC v1, the family) walk orders downwards.
  const walksOrdersDown = st === 'radix' || st === 'radix-rfc' || f.packed === true;
  const moved = sc.orders > 1 ? Math.round(restored * regions * (walksOrdersDown ? 0.06 : 0.045)) : 0;
  const memblockModel = 9 + (moved / Math.max(1, restored)) * 0.05;
  // With deferred struct page init every struct page of the folio (64 bytes each) is written first, streamed.
  const structPageModel = DRAM_NS / 24 + 1 + 2 ** sc.order * LINE_NS;
  const restoreModel = walkModel + memblockModel + structPageModel;
  // A preallocated chunk is rewritten in place; a fresh one is taken and zeroed first.
  const chunkNs = f.preallocated ? 64 * LINE_NS : DRAM_NS + 64 * LINE_NS;
  const serializeModelMs = f.serializes ? (s.leaves * 11 + s.chunks * chunkNs + 2000) / 1e6 : 0.00003;
  const dramPerRestored = restored > 0 ? s.walkLines + 1 + 0.05 : 0;

  const walkJs = restored > 0 ? f.jsWalk + 5.5 * s.walkLines + (40 * s.restorePages) / restored : 0;
  const memblockJs = 38 + (moved / Math.max(1, restored)) * 1.2;
  const structPagesEagerJs = 11;
  const structPagesJs = structPagesEagerJs + 2 ** sc.order * 1.9;
  const restoreJs = walkJs + memblockJs + structPagesJs + 4;
  const preserveJs = f.jsPreserve + 1.4 * preserveModel;
  const serializeMs = f.serializes ? (s.leaves * 90 + s.chunks * 6000 + 20000) / 1e6 : 0.0004;
  const perMs = (ns: number) => (ns * restored) / 1e6;

  const exact: Record<string, number> = {
    preserve_model_ns: preserveModel,
    unpreserve_model_ns: preserveModel * 0.7,
    serialize_model_ms: serializeModelMs,
    restore_model_ns_per_folio: restoreModel,
    restore_walk_model_ns_per_folio: walkModel,
    restore_model_ms: (restoreModel * restored) / 1e6,
    blackout_model_ms: serializeModelMs + (restoreModel * restored) / 1e6,
    dram_per_preserve: dramPerPreserve,
    dram_per_restored_folio: dramPerRestored,
    serialize_bytes: s.chunks * PAGE,
    serialize_pages: s.chunks,
    metadata_bytes_handover: s.bytes,
    metadata_pages_handover: s.pages,
    metadata_bytes_peak: sc.id === 'churn' && st === 'ida' ? s.bytes * 1.3 : s.bytes,
    metadata_pages_peak: sc.id === 'churn' && st === 'ida' ? Math.ceil(s.pages * 1.3) : s.pages,
    metadata_bytes_per_folio: s.bytes / F,
    metadata_bytes_per_gib: s.bytes / ((F * PAGE * 2 ** sc.order) / GiB),
    pages_per_preserve: pagesPerPreserve,
    lines_per_preserve: linesPerPreserve,
    pages_per_restored_folio: restored > 0 ? s.restorePages / restored : 0,
    lines_per_restored_folio: restored > 0 ? s.walkLines : 0,
    restore_metadata_objects: s.leaves + s.nodes + s.chunks,
    restore_metadata_bytes: s.bytes,
    restore_metadata_pages: s.restorePages,
    memblock_regions: regions,
    memblock_moved: moved,
    // The kernel's linear scan visits every region before the insert point: quadratic in disjoint regions.
    memblock_scanned: Math.round((regions * (regions + 1)) / 2),
    lost_folios: lost,
    folios: F,
    preserved_bytes: F * PAGE * 2 ** sc.order,
  };
  const measured: Record<string, number> = {
    preserve_ns_per_folio: preserveJs,
    unpreserve_ns_per_folio: preserveJs * 0.8,
    serialize_ms: serializeMs,
    restore_ns_per_folio: restoreJs,
    restore_ms: perMs(restoreJs) + 0.01,
    restore_walk_ns_per_folio: walkJs,
    restore_walk_ms: perMs(walkJs) + 0.005,
    restore_memblock_ns_per_folio: memblockJs,
    restore_memblock_ms: perMs(memblockJs),
    restore_struct_pages_ns_per_folio: structPagesJs,
    restore_struct_pages_ms: perMs(structPagesJs),
    restore_struct_pages_eager_ns_per_folio: structPagesEagerJs,
    restore_struct_pages_eager_ms: perMs(structPagesEagerJs),
    preserve_ns_per_folio_benny: preserveJs * 1.04,
  };
  const model: Costs['model'] = {
    preserve: modelFigures(F, preserveModel, dramPerPreserve, f.levels + 2, st.startsWith('xarray') ? 1 : 0, 40 + 6 * f.levels),
    unpreserve: modelFigures(F, preserveModel * 0.7, dramPerPreserve * 0.5, f.levels + 2, st.startsWith('xarray') ? 1 : 0, 34 + 6 * f.levels),
    finalize: modelFigures(1, serializeModelMs * 1e6, s.chunks * 64, s.leaves + 1, 0, 30 * s.leaves + 20),
    restoreWalk: modelFigures(restored, walkModel, s.walkLines, f.levels + 1, 0, 12),
    restore: modelFigures(restored, restoreModel, dramPerRestored, f.levels + 4, 0, 60),
  };
  return { exact, measured, model, lost };
}

export interface FixtureOptions {
  seed?: number;
  structures?: readonly string[];
  scenarios?: readonly string[];
  /** Multiplies every measured time of a structure (a code change: the model and the exact counts stay). */
  slowdown?: Readonly<Record<string, number>>;
  /** Between-process coefficient of variation of the measured times (default 0.04). */
  cv?: number;
  /** Processes per pair (default 10; 3 for the smoke profile). */
  processes?: number;
  date?: string;
  gitCommit?: string;
  profile?: 'smoke' | 'default' | 'full';
  /** Include the scaling sweeps and fits (default true). */
  sweeps?: boolean;
  /** The host got slower by this fraction over the second half of the run (default 0). */
  hostDrift?: number;
  /** Multiplies every calibration time (a slower host than another fixture's). */
  hostSpeed?: number;
  /**
   * A design-space section (plan.designSpace): family points on scenarios, with `processes` timing
   * processes each (default: every point, every scenario of the fixture, 1 process). The named
   * structures then default to FIXTURE_STRUCTURES and FIXTURE_PROPOSALS, as a run measures them.
   */
  designSpace?: { points?: readonly string[]; scenarios?: readonly string[]; processes?: number };
}

interface Draw {
  rnd: Uniform;
  cv: number;
  processes: number;
}

/** A measured metric from per-process values around `mean` (log-normal, so every value is positive). */
function measuredValue(mean: number, d: Draw, cv = d.cv, outlier = false): MetricValue {
  const perProcess: number[] = [];
  for (let i = 0; i < d.processes; i++) perProcess.push(mean * Math.exp(cv * normalDeviate(d.rnd) - (cv * cv) / 2));
  if (outlier) perProcess[d.processes - 1] *= 1.6;
  return fromProcesses(perProcess);
}

function fromProcesses(perProcess: number[]): MetricValue {
  // One process has no interval and no spread, as the runner writes it (src/results/assemble.ts).
  if (perProcess.length < 2) return { value: perProcess[0], processes: perProcess.length, perProcess };
  const est = processInterval(perProcess);
  return {
    value: est.value,
    ciLow: est.ciLow,
    ciHigh: est.ciHigh,
    processes: perProcess.length,
    perProcess,
    cv: processSpread(perProcess).cv,
    outliers: tukeyOutliers(perProcess).counts,
  };
}

function batches(center: number, rnd: Uniform): NonNullable<PairResult['distributions']>['preserve'] {
  const values: number[] = [];
  for (let i = 0; i < 32; i++) {
    let v = center * Math.exp(0.06 * normalDeviate(rnd));
    if (rnd() < 0.05) v *= 1.8 + rnd();
    values.push(v);
  }
  values.sort((a, b) => a - b);
  const q = (p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))];
  return { p50: q(0.5), p99: q(0.99), min: values[0], max: values[values.length - 1], batches: values };
}

/** The trackers whose kernel had no unpreserve call. */
const NO_UNPRESERVE: Readonly<Record<string, string>> = {
  'xarray-6.16': 'xarray-6.16 has no unpreserve; it appeared in 6.19',
  'xarray-6.18': 'xarray-6.18 has no unpreserve; it appeared in 6.19',
  'radix-rfc': 'RFC v1 has no unpreserve',
};

const RESTORE_METRICS = [
  'restore_ns_per_folio',
  'restore_memblock_ms',
  'restore_struct_pages_ms',
  'restore_struct_pages_eager_ms',
  'restore_struct_pages_eager_ns_per_folio',
  'restore_walk_ns_per_folio',
  'restore_memblock_ns_per_folio',
  'restore_struct_pages_ns_per_folio',
  'restore_model_ns_per_folio',
  'restore_model_ms',
  'restore_walk_model_ns_per_folio',
  'dram_per_restored_folio',
  'pages_per_restored_folio',
  'lines_per_restored_folio',
];

function pairOf(st: string, sc: ScenarioShape, d: Draw, slow: number): PairResult {
  const c = costsOf(st, sc);
  const metrics: Record<string, MetricValue> = {};
  const unavailable: Record<string, string> = {};
  const warnings: string[] = [];
  // One noisy pair and one pair with a slow process, so that the report has warnings to show.
  const noisy = st === 'ida' && sc.id === 'random-4k';
  const slowProcess = st === 'xarray-6.16' && sc.id === 'churn';
  const perProcessTotals: { serialize?: number[]; restore?: number[] } = {};
  for (const [name, mean] of Object.entries(c.measured)) {
    const m = measuredValue(mean * slow, d, noisy && name.startsWith('preserve') ? 0.19 : d.cv, slowProcess && name === 'preserve_ns_per_folio');
    metrics[name] = m;
    if (name === 'serialize_ms') perProcessTotals.serialize = m.perProcess;
    if (name === 'restore_ms') perProcessTotals.restore = m.perProcess;
  }
  // Blackout is serialization plus restore within each process.
  metrics.blackout_ms = fromProcesses(perProcessTotals.serialize!.map((s, i) => s + perProcessTotals.restore![i]));
  for (const [name, value] of Object.entries(c.exact)) metrics[name] = { value };
  const noUnpreserve = NO_UNPRESERVE[st];
  if (noUnpreserve) {
    for (const name of ['unpreserve_ns_per_folio', 'unpreserve_model_ns']) {
      delete metrics[name];
      unavailable[name] = noUnpreserve;
    }
  }
  if (st === 'radix-rfc') {
    if (c.lost === sc.folios) {
      for (const name of RESTORE_METRICS) {
        delete metrics[name];
        unavailable[name] = `RFC v1 has no slot for order ${sc.order}: it restores none of the ${sc.folios} folios`;
      }
    }
  }
  if (c.lost > 0) warnings.push(`loses ${c.lost} of ${sc.folios} folios: RFC v1 walks orders 0..9 only`);
  for (const [name, m] of Object.entries(metrics)) {
    const w = m.cv !== undefined ? spreadWarning(m.cv) : undefined;
    if (w && name === 'preserve_ns_per_folio') warnings.push(`${name}: ${w}`);
    if (m.outliers && m.outliers.highSevere + m.outliers.highMild > 0 && name === 'preserve_ns_per_folio') {
      warnings.push(`${name}: ${m.outliers.highSevere + m.outliers.highMild} of ${m.processes} processes beyond Tukey's high fence (kept: a slow process is part of the cost)`);
    }
  }
  const preserveMean = metrics.preserve_ns_per_folio.value;
  return {
    structure: st,
    scenario: sc.id,
    ramBytes: sc.ramBytes,
    folios: sc.folios,
    preservedBytes: c.exact.preserved_bytes,
    metrics,
    ...(Object.keys(unavailable).length ? { unavailable } : {}),
    ...(warnings.length ? { warnings } : {}),
    distributions: {
      preserve: batches(preserveMean, d.rnd),
      ...(metrics.unpreserve_ns_per_folio ? { unpreserve: batches(metrics.unpreserve_ns_per_folio.value, d.rnd) } : {}),
    },
    model: noUnpreserve ? { preserve: c.model.preserve, finalize: c.model.finalize, restoreWalk: c.model.restoreWalk, restore: c.model.restore } : c.model,
    memblock: { regions: c.exact.memblock_regions, moved: c.exact.memblock_moved },
    batchSize: { preserve: 256, unpreserve: 256 },
    timerOverheadFraction: { preserve: 0.0021, unpreserve: 0.0024 },
    hostMaxRssBytes: 90 * MiB + c.exact.metadata_bytes_peak,
  };
}

const SWEEP_MEASURED = ['preserve_ns_per_folio', 'serialize_ms', 'restore_ms'];
const SWEEP_EXACT = ['metadata_bytes_handover', 'preserve_model_ns', 'serialize_model_ms', 'restore_model_ms'];

function sweepsOf(structures: readonly string[], profile: string, d: Draw, slowdown: Readonly<Record<string, number>>): { sweeps: SweepPoint[]; fits: SweepFit[] } {
  const smoke = profile === 'smoke';
  const axes = {
    folios: { xs: smoke ? [1e3, 4e3] : [1e3, 1e4, 1e5, 1e6, 1e7], ram: smoke ? GiB : 256 * GiB },
    ram: { xs: smoke ? [GiB, 4 * GiB] : [GiB, 16 * GiB, 256 * GiB, 4 * TiB, 16 * TiB], folios: smoke ? 1e3 : 1e4 },
  };
  const sweeps: SweepPoint[] = [];
  const fits: SweepFit[] = [];
  const sweepDraw = { ...d, processes: smoke ? 2 : 5 };
  for (const st of structures) {
    for (const axis of ['folios', 'ram'] as const) {
      const points: SweepPoint[] = [];
      for (const x of axes[axis].xs) {
        const ramBytes = axis === 'folios' ? axes.folios.ram : x;
        const folios = axis === 'folios' ? x : axes.ram.folios;
        const sc = scenario(`sweep-${axis}-${x}`, '', ramBytes, folios, 0, 'random', 0);
        const c = costsOf(st, sc);
        const metrics: Record<string, MetricValue> = {};
        for (const name of SWEEP_MEASURED) metrics[name] = measuredValue(c.measured[name] * (slowdown[st] ?? 1), sweepDraw);
        for (const name of SWEEP_EXACT) metrics[name] = { value: c.exact[name] };
        points.push({ structure: st, axis, x, folios, ramBytes, metrics });
      }
      sweeps.push(...points);
      for (const metric of [...SWEEP_MEASURED, ...SWEEP_EXACT]) {
        const xs = points.map((p) => p.x);
        const ys = points.map((p) => p.metrics[metric].value);
        const fit = fitPowerLaw(xs, ys);
        if (!fit) continue;
        // The slope's 95% interval from r²: se = |k|·√((1 − r²) / (r² (n − 2))).
        const interval =
          fit.points >= 3 && fit.r2 > 0 && fit.r2 < 1
            ? tQuantile(0.975, fit.points - 2) * Math.abs(fit.exponent) * Math.sqrt((1 - fit.r2) / (fit.r2 * (fit.points - 2)))
            : fit.points >= 3
              ? 0
              : undefined;
        fits.push({
          structure: st,
          axis,
          metric,
          exponent: fit.exponent,
          ...(interval !== undefined ? { ciLow: fit.exponent - interval, ciHigh: fit.exponent + interval } : {}),
          r2: fit.r2,
          points: fit.points,
        });
      }
    }
  }
  return { sweeps, fits };
}

function calibrations(structures: readonly string[]): Calibration[] {
  const all: Calibration[] = [
    {
      id: 'yadav-2025-04-chunks',
      source: 'Pratyush Yadav, LKML, 3 Apr 2025: 48 GiB preserved, reservations plus serialization, linked list of chunks, 577 ms ±0.7% (6 samples)',
      assumptions: [
        'the 48 GiB are order-0 pages, contiguous (the post gives neither orders nor layout)',
        'the chunk list of xarray-6.16 stands for the one measured',
        'one CPU, as in the post',
      ],
      structure: 'xarray-6.16',
      publishedMs: 577,
      modelMs: 401,
      ratio: 401 / 577,
    },
    {
      id: 'yadav-2026-06-radix-small',
      source: 'Pratyush Yadav, 5 Jun 2026 ("kho: extend scratch" v2 15/18): radix tree walk, 0x22d preservations, 0xa2b000 bytes, QEMU, 88 µs',
      assumptions: ['the 557 preservations are spread evenly over 0xa2b000 bytes', 'the second tree the post inserts into costs as memblock does here'],
      structure: 'radix',
      publishedMs: 0.088,
      modelMs: 0.052,
      ratio: 0.052 / 0.088,
    },
    {
      id: 'yadav-2026-06-radix-large',
      source: 'Pratyush Yadav, 5 Jun 2026: radix tree walk, 526,386 preservations, 0x8102d000 bytes, QEMU, 21,769 µs',
      assumptions: ['every preservation is order 0 (0x8102d000 bytes / 526,386 = 4 KiB)', 'the second tree the post inserts into costs as memblock does here', 'QEMU adds nothing to the walk'],
      structure: 'radix',
      publishedMs: 21.769,
      modelMs: 24.1,
      ratio: 24.1 / 21.769,
    },
  ];
  return all.filter((c) => structures.includes(c.structure));
}

/** Builds a schema-valid results object. */
export function makeFixture(options: FixtureOptions = {}): Results {
  const rnd = seededUniform(options.seed ?? 1);
  const profile = options.profile ?? 'default';
  const processes = options.processes ?? (profile === 'smoke' ? 3 : 10);
  const d: Draw = { rnd, cv: options.cv ?? 0.04, processes };
  const ds = options.designSpace;
  const structures = options.structures ?? (ds ? [...FIXTURE_STRUCTURES, ...FIXTURE_PROPOSALS] : FIXTURE_STRUCTURES);
  const scenarioIds = options.scenarios ?? FIXTURE_SCENARIOS;
  const scenarios = scenarioIds.map((id) => {
    const known = DEFAULT_SCENARIOS.find((s) => s.id === id) ?? scenario(id, `scenario ${id}`, 16 * GiB, 10000, 0, 'random', 0);
    const smoke = profile === 'smoke' ? SMOKE_SIZES[id] : undefined;
    return smoke ? { ...known, ...smoke } : known;
  });
  const pairs: PairResult[] = [];
  for (const sc of scenarios) for (const st of structures) pairs.push(pairOf(st, sc, d, options.slowdown?.[st] ?? 1));
  const designSpace = ds && {
    points: [...(ds.points ?? FIXTURE_FAMILY)],
    scenarios: (ds.scenarios ?? scenarioIds).filter((id) => scenarioIds.includes(id)),
    processes: ds.processes ?? 1,
  };
  if (designSpace) {
    // Its own stream, so that adding points changes no named structure's numbers.
    const dd: Draw = { rnd: seededUniform((options.seed ?? 1) + 7919), cv: d.cv, processes: designSpace.processes };
    for (const sc of scenarios.filter((s) => designSpace.scenarios.includes(s.id))) {
      for (const st of designSpace.points) pairs.push(pairOf(st, sc, dd, options.slowdown?.[st] ?? 1));
    }
  }
  const familyPairs = designSpace ? designSpace.points.length * designSpace.scenarios.length : 0;
  const { sweeps, fits } = options.sweeps === false ? { sweeps: [], fits: [] } : sweepsOf(structures, profile, d, options.slowdown ?? {});

  // Every timing process ran the calibration loop at its start and end.
  const nProc = (pairs.length - familyPairs) * processes + familyPairs * (designSpace?.processes ?? 0);
  const speed = options.hostSpeed ?? 1;
  const calib = (i: number) => 17e6 * speed * (1 + (i >= nProc / 2 ? (options.hostDrift ?? 0) : 0)) * Math.exp(0.03 * normalDeviate(rnd));
  const startNs = Array.from({ length: nProc }, (_, i) => calib(i));
  const endNs = Array.from({ length: nProc }, (_, i) => calib(i));
  const warning = hostSlowdown(startNs.map((s, i) => ({ startNs: s, endNs: endNs[i] }))).message;
  const suite = FIXTURE_STRUCTURES.length + (ds ? FIXTURE_PROPOSALS.length : 0);
  const allStructures = structures.length === suite && scenarioIds.length === FIXTURE_SCENARIOS.length;
  // A timing job per process, and an exact job per pair for the design space as the runner plans them.
  const jobs = (pairs.length - familyPairs) * processes + familyPairs * ((designSpace?.processes ?? 0) + 1) + sweeps.length;

  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    context: {
      cpuModel: 'Synthetic fixture CPU @ 2.45GHz',
      cores: 2,
      memoryBytes: 24 * GiB,
      platform: 'linux x64',
      node: 'v20.20.2',
      v8: '11.3.244.8-node.33',
      gitCommit: options.gitCommit ?? '0123456789abcdef0123456789abcdef01234567',
      date: options.date ?? '2026-01-15T12:00:00.000Z',
      profile,
      seed: options.seed ?? 1,
      seeds: Object.fromEntries(scenarios.map((s, i) => [s.id, 1000 + i])),
      timer: { provider: 'process.hrtime.bigint', callNs: 55, regionNs: 30 },
      runner: { jobs: profile === 'smoke' ? 2 : 1, launcher: 'bundle', processes, tinybench: '6.2.5', benny: '3.7.1' },
      modelCpu: 'AMD EPYC 9654 (Zen 4, "Genoa"), one core, direct map on 1 GiB pages',
      calibration: { startNs, endNs, ...(warning ? { warning } : {}) },
      peakRssBytes: { job: 250 * MiB, runner: 160 * MiB },
      wallSeconds: profile === 'smoke' ? 30 : 195,
    },
    metricDefs: Object.fromEntries(PAIR_METRICS.map((m) => [m.name, { kind: m.kind, unit: m.unit, description: metricDef(m.name).description }])),
    scenarios: scenarios.map((s) => ({ id: s.id, description: s.description, ramBytes: s.ramBytes, folios: s.folios, seed: 1000 + scenarios.indexOf(s) })),
    pairs,
    sweeps,
    fits,
    calibrations: calibrations(structures),
    complete: true,
    plan: {
      structures: [...structures],
      scenarios: [...scenarioIds],
      filtered: !allStructures,
      sweeps: options.sweeps !== false,
      crossCheck: true,
      processes,
      aa: false,
      ...(designSpace ? { designSpace } : {}),
      jobs: profile === 'smoke' ? 2 : 1,
      totalJobs: jobs,
      doneJobs: jobs,
    },
  };
}
