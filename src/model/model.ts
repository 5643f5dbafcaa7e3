/**
 * A deterministic model of one CPU core's memory hierarchy, driven by the
 * exact sequence of memory accesses of a tracker operation, that says what
 * the operation would cost on a named server CPU (src/model/cpus/*.json).
 * src/model/README.md states the model with its parameters and sources;
 * this is the short form.
 *
 * State (all fixed-size typed arrays, see lru.ts):
 *   L1D, L2, LLC    set-associative, exact LRU, 64-byte lines, set = line mod sets.
 *                   A miss fills the line into L1 and L2. L2 victims go into
 *                   the LLC (a victim cache, as on Zen); an LLC hit moves the
 *                   line out of the LLC into L2 and L1 (exclusive). L1 victims
 *                   are dropped; inclusion is not enforced (no back-invalidation)
 *                   and dirty lines are not tracked (write-backs cost nothing).
 *   prefetcher      ascending next-line stream: on a demand L1 miss to line L
 *                   whose predecessor L-1 (same 4 KiB page) is in L1, or on the
 *                   first demand hit to a line the prefetcher brought in, lines
 *                   L+1 .. L+degree of the same page that are not in L1 are
 *                   fetched into L1 and L2 through the same fill path, in time.
 *   DTLB            L1: fully associative LRU over tlb.pageBytes pages (1 GiB: the
 *                   direct map); STLB: set-associative LRU over tlb.stlbEntryBytes
 *                   entries. One translation per access.
 *
 * Cost of one op (between beginOp and endOp), in core cycles:
 *   request latency  lat(level) of each line of a load, plus the translation
 *                    penalty on its first line: 0 (L1 DTLB hit), stlbHitCycles,
 *                    or stlbHitCycles + walkCycles; a load of a line with a store
 *                    miss pending in this op waits for that store instead.
 *   steps            deref() and atomics end a step. A step's requests are
 *                    independent: those slower than an L1 hit are taken in issue
 *                    order in batches of at most mlp, each batch costing its
 *                    slowest request; step = sum of batches, or the L1 latency if
 *                    every request hit L1 with no penalty.
 *   stores           retire into the store buffer: no step time. A store line
 *                    that misses L1 completes at (path so far + its latency); a
 *                    later load of that line waits until then.
 *   atomics          a full barrier: own step = drain of pending store misses +
 *                    translation + slowest line + atomicCycles.
 *   path             = sum of step times (chain = number of steps).
 *   bandwidth        = lines brought from DRAM (demand and prefetch) * 64 B / streamGBps.
 *   mem              = max(path, bandwidth)
 *   alu              = sum over instructions charged (implied per event, plus alu())
 *                      of aluCycles[class].
 *   cycles = mem + alu;  ns = cycles / frequencyGHz.
 * Accesses outside an op update all state but cost nothing. Every sum runs
 * in program order over plain doubles: the same trace gives the same bits.
 */
import { ALU_KINDS, type AluKind, type CpuParams, IMPLIED_EVENTS, type ImpliedEvent, ModelError } from './cpu.ts';
import { EMPTY, FullLru, LruSets } from './lru.ts';

export type { AluKind, CpuParams };

export interface LevelCounts {
  l1: number;
  l2: number;
  llc: number;
  dram: number;
}

export interface OpCost {
  /** Demand lines served per level (a multi-line access counts each line; prefetches are not counted here). */
  hits: LevelCounts;
  /** L1 DTLB misses. */
  tlbMisses: number;
  /** L2 DTLB (STLB) misses, i.e. page walks. */
  stlbMisses: number;
  /** Lines the prefetcher brought into L1. */
  prefetches: number;
  /** Dependency steps: the longest chain of dependent loads (and atomics). */
  chain: number;
  atomics: number;
  /** Instructions charged (implied per event plus explicit alu()). */
  instructions: number;
  /** Sum of step times. */
  pathCycles: number;
  /** DRAM lines times the per-line streaming time. */
  bandwidthCycles: number;
  /** max(pathCycles, bandwidthCycles). */
  memCycles: number;
  aluCycles: number;
  /** memCycles + aluCycles. */
  cycles: number;
  /** cycles / frequencyGHz. */
  ns: number;
}

export interface ModelTotals extends OpCost {
  /** Ops ended. */
  ops: number;
  /** The longest chain of any op. */
  maxChain: number;
}

export interface LevelLatencies {
  l1: number;
  l2: number;
  llc: number;
  dram: number;
}

const LVL_L1 = 0;
const LVL_L2 = 1;
const LVL_LLC = 2;
const LVL_DRAM = 3;
const FLAG_PREFETCHED = 1;
const LINE_BYTES = 64;
const PAGE_BYTES = 4096;
/** Mask of a line's index within its 4 KiB page. */
const LINE_IN_PAGE = 63;
const MAX_PA = 2 ** 52;

const EV_LOAD = IMPLIED_EVENTS.indexOf('load');
const EV_STORE = IMPLIED_EVENTS.indexOf('store');
const EV_DEREF = IMPLIED_EVENTS.indexOf('deref');
const EV_ATOMIC = IMPLIED_EVENTS.indexOf('atomic');
const EV_OP = IMPLIED_EVENTS.indexOf('op');

export class MachineModel {
  readonly cpu: CpuParams;
  /** Load-to-use latency of each level in cycles (DRAM: latencyNs * frequencyGHz, rounded). */
  readonly latency: Readonly<LevelLatencies>;
  /** Cycles one 64-byte line from DRAM occupies the core's streaming bandwidth. */
  readonly dramLineCycles: number;

  private readonly l1: LruSets;
  private readonly l2: LruSets;
  private readonly llc: LruSets;
  private readonly dtlb: FullLru;
  private readonly stlb: LruSets;
  /** Set counts are powers of two (the schema checks): set = line & mask, on int32 arithmetic. */
  private readonly l1Mask: number;
  private readonly l1Ways: number;
  private readonly l2Mask: number;
  private readonly llcMask: number;
  private readonly stlbMask: number;
  private readonly lat: Float64Array;
  private readonly l1Lat: number;
  private readonly mlp: number;
  private readonly degree: number;
  private readonly tlbPageBytes: number;
  private readonly stlbEntryBytes: number;
  private readonly stlbHitCycles: number;
  private readonly walkCycles: number;
  private readonly atomicCycles: number;
  private readonly freqGHz: number;
  private readonly aluCost: Float64Array;
  private readonly impliedInsn: Float64Array;
  private readonly impliedCycles: Float64Array;

  private inOp = false;
  /** Numbers ops so that a pending-store mark left in L1 by an earlier op is ignored. */
  private opId = 0;
  private pfTrigger = false;

  private hitL1 = 0;
  private hitL2 = 0;
  private hitLlc = 0;
  private hitDram = 0;
  private tlbMisses = 0;
  private stlbMisses = 0;
  private prefetches = 0;
  private chain = 0;
  private atomics = 0;
  private instructions = 0;
  private aluCycles = 0;
  private dramLines = 0;
  private path = 0;
  private storeDone = 0;

  private stepHasRequest = false;
  private stepSum = 0;
  private batchCount = 0;
  private batchMax = 0;

  private readonly sums: ModelTotals = emptyTotals();

  constructor(cpu: CpuParams) {
    this.cpu = cpu;
    this.l1Ways = cpu.l1d.ways;
    const l1Sets = setsOf(cpu.l1d.sizeBytes, cpu.l1d.ways);
    const l2Sets = setsOf(cpu.l2.sizeBytes, cpu.l2.ways);
    const llcSets = setsOf(cpu.llc.sizeBytes, cpu.llc.ways);
    const stlbSets = (cpu.tlb.stlbEntries / cpu.tlb.stlbWays) | 0;
    this.l1Mask = l1Sets - 1;
    this.l2Mask = l2Sets - 1;
    this.llcMask = llcSets - 1;
    this.stlbMask = stlbSets - 1;
    // Only the L1 carries payloads: pending store misses live with their line.
    this.l1 = new LruSets(l1Sets, cpu.l1d.ways, true);
    this.l2 = new LruSets(l2Sets, cpu.l2.ways, false);
    this.llc = new LruSets(llcSets, cpu.llc.ways, false);
    this.dtlb = new FullLru(cpu.tlb.l1Entries);
    this.stlb = new LruSets(stlbSets, cpu.tlb.stlbWays, false);

    const dram = Math.round(cpu.dram.latencyNs * cpu.frequencyGHz);
    this.latency = Object.freeze({ l1: cpu.l1d.latencyCycles, l2: cpu.l2.latencyCycles, llc: cpu.llc.latencyCycles, dram });
    this.lat = Float64Array.of(cpu.l1d.latencyCycles, cpu.l2.latencyCycles, cpu.llc.latencyCycles, dram);
    this.l1Lat = cpu.l1d.latencyCycles;
    this.dramLineCycles = (LINE_BYTES / cpu.dram.streamGBps) * cpu.frequencyGHz;
    this.mlp = cpu.mlp;
    this.degree = cpu.prefetch.degree;
    this.tlbPageBytes = cpu.tlb.pageBytes;
    this.stlbEntryBytes = cpu.tlb.stlbEntryBytes;
    this.stlbHitCycles = cpu.tlb.stlbHitCycles;
    this.walkCycles = cpu.tlb.walkCycles;
    this.atomicCycles = cpu.atomicCycles;
    this.freqGHz = cpu.frequencyGHz;

    this.aluCost = Float64Array.from(ALU_KINDS, (k) => cpu.aluCycles[k]);
    this.impliedInsn = new Float64Array(IMPLIED_EVENTS.length);
    this.impliedCycles = new Float64Array(IMPLIED_EVENTS.length);
    IMPLIED_EVENTS.forEach((ev: ImpliedEvent, e) => {
      const charge = cpu.implied[ev];
      ALU_KINDS.forEach((kind, k) => {
        const n = charge[kind] ?? 0;
        this.impliedInsn[e] += n;
        this.impliedCycles[e] += n * this.aluCost[k];
      });
    });
  }

  /** Sums over ended ops (a copy). */
  get totals(): ModelTotals {
    const t = this.sums;
    return { ...t, hits: { ...t.hits } };
  }

  get inOperation(): boolean {
    return this.inOp;
  }

  resetTotals(): void {
    const fresh = emptyTotals();
    Object.assign(this.sums, fresh);
  }

  load(pa: number, bytes: number): void {
    if (!validAccess(pa, bytes)) throw badAccess('load', pa, bytes);
    const inOp = this.inOp;
    const tlb = this.translate(pa);
    const first = Math.floor(pa / LINE_BYTES);
    const last = Math.floor((pa + bytes - 1) / LINE_BYTES);
    for (let line = first; line <= last; line++) {
      const level = this.fetch(line);
      if (inOp) {
        let lat = this.lat[level];
        if (line === first) lat += tlb;
        if (level === LVL_L1) lat = this.waitForStore(line, lat);
        this.count(level);
        this.request(lat);
      }
      if (this.pfTrigger) this.prefetchAfter(line);
    }
    if (inOp) this.charge(EV_LOAD);
  }

  store(pa: number, bytes: number): void {
    if (!validAccess(pa, bytes)) throw badAccess('store', pa, bytes);
    const inOp = this.inOp;
    const tlb = this.translate(pa);
    const first = Math.floor(pa / LINE_BYTES);
    const last = Math.floor((pa + bytes - 1) / LINE_BYTES);
    for (let line = first; line <= last; line++) {
      const level = this.fetch(line);
      if (inOp) {
        this.count(level);
        if (level !== LVL_L1) this.markPendingStore(line, this.lat[level] + (line === first ? tlb : 0));
      }
      if (this.pfTrigger) this.prefetchAfter(line);
    }
    if (inOp) this.charge(EV_STORE);
  }

  atomic(pa: number, bytes: number): void {
    if (!validAccess(pa, bytes)) throw badAccess('atomic', pa, bytes);
    const inOp = this.inOp;
    if (inOp) this.closeStep();
    const tlb = this.translate(pa);
    const first = Math.floor(pa / LINE_BYTES);
    const last = Math.floor((pa + bytes - 1) / LINE_BYTES);
    let slowest = 0;
    for (let line = first; line <= last; line++) {
      const level = this.fetch(line);
      if (inOp) this.count(level);
      if (this.lat[level] > slowest) slowest = this.lat[level];
      if (this.pfTrigger) this.prefetchAfter(line);
    }
    if (!inOp) return;
    const drain = this.storeDone > this.path ? this.storeDone - this.path : 0;
    this.path += drain + tlb + slowest + this.atomicCycles;
    this.storeDone = 0;
    this.chain++;
    this.atomics++;
    this.charge(EV_ATOMIC);
  }

  deref(): void {
    if (!this.inOp) return;
    this.closeStep();
    this.charge(EV_DEREF);
  }

  alu(kind: AluKind, count: number): void {
    const k = aluIndex(kind);
    if (k < 0 || !Number.isSafeInteger(count) || count < 0) throw badAlu(kind, count);
    if (!this.inOp) return;
    this.instructions += count;
    this.aluCycles += count * this.aluCost[k];
  }

  /**
   * Cycles of work the trace does not replay, priced in closed form by the
   * caller (a stream the caller knows the cost of): added to the op's ALU
   * side, not to any cache level. Used for memblock's linear region scan,
   * which the replay finds by binary search (src/measure/restore.ts).
   */
  stall(cycles: number): void {
    if (!(cycles >= 0) || !Number.isFinite(cycles)) throw new ModelError('stall: cycles must be a finite number >= 0');
    if (this.inOp) this.aluCycles += cycles;
  }

  beginOp(): void {
    if (this.inOp) throw new ModelError('beginOp: an op is already open');
    this.inOp = true;
    this.opId++;
    this.hitL1 = 0;
    this.hitL2 = 0;
    this.hitLlc = 0;
    this.hitDram = 0;
    this.tlbMisses = 0;
    this.stlbMisses = 0;
    this.prefetches = 0;
    this.chain = 0;
    this.atomics = 0;
    this.instructions = 0;
    this.aluCycles = 0;
    this.dramLines = 0;
    this.path = 0;
    this.storeDone = 0;
    this.resetStep();
    this.charge(EV_OP);
  }

  /** Ends the op and returns its cost, into `out` when given (to replay millions of ops without allocating). */
  endOp(out?: OpCost): OpCost {
    if (!this.inOp) throw new ModelError('endOp: no op is open');
    this.closeStep();
    this.inOp = false;
    const bandwidth = this.dramLines * this.dramLineCycles;
    const mem = this.path > bandwidth ? this.path : bandwidth;
    const cycles = mem + this.aluCycles;
    const cost = out ?? emptyCost();
    cost.hits.l1 = this.hitL1;
    cost.hits.l2 = this.hitL2;
    cost.hits.llc = this.hitLlc;
    cost.hits.dram = this.hitDram;
    cost.tlbMisses = this.tlbMisses;
    cost.stlbMisses = this.stlbMisses;
    cost.prefetches = this.prefetches;
    cost.chain = this.chain;
    cost.atomics = this.atomics;
    cost.instructions = this.instructions;
    cost.pathCycles = this.path;
    cost.bandwidthCycles = bandwidth;
    cost.memCycles = mem;
    cost.aluCycles = this.aluCycles;
    cost.cycles = cycles;
    cost.ns = cycles / this.freqGHz;
    this.accumulate(cost);
    return cost;
  }

  /** Cold caches, TLBs and prefetcher state, as in the next kernel after kexec. */
  flush(): void {
    this.l1.clear();
    this.l2.clear();
    this.llc.clear();
    this.dtlb.clear();
    this.stlb.clear();
    this.pfTrigger = false;
  }

  /** Brings `line` into L1 for a demand access; returns the level that served it and sets pfTrigger. */
  private fetch(line: number): number {
    const l1 = this.l1;
    const s1 = line & this.l1Mask;
    const pos = l1.find(line, s1);
    if (pos >= 0) {
      l1.promote(s1, pos);
      const slot = s1 * this.l1Ways;
      if ((l1.flags[slot] & FLAG_PREFETCHED) !== 0) {
        l1.flags[slot] = 0;
        this.pfTrigger = this.degree > 0;
      }
      return LVL_L1;
    }
    this.pfTrigger = this.degree > 0 && (line & LINE_IN_PAGE) !== 0 && this.inL1(line - 1);
    const level = this.fillL2(line);
    l1.insert(line, s1, 0);
    return level;
  }

  /** Makes `line` present in L2 (from L2, LLC or DRAM) and returns the level that had it. */
  private fillL2(line: number): number {
    const l2 = this.l2;
    const s2 = line & this.l2Mask;
    const pos = l2.find(line, s2);
    if (pos >= 0) {
      l2.promote(s2, pos);
      return LVL_L2;
    }
    const llc = this.llc;
    const s3 = line & this.llcMask;
    const pos3 = llc.find(line, s3);
    let level = LVL_DRAM;
    if (pos3 >= 0) {
      llc.remove(s3, pos3);
      level = LVL_LLC;
    }
    const victim = l2.insert(line, s2, 0);
    if (victim !== EMPTY) this.spillToLlc(victim);
    return level;
  }

  /** An L2 victim is never in the LLC already: every way into L2 (fillL2) takes the line out of the LLC. */
  private spillToLlc(line: number): void {
    this.llc.insert(line, line & this.llcMask, 0);
  }

  private inL1(line: number): boolean {
    return this.l1.find(line, line & this.l1Mask) >= 0;
  }

  private prefetchAfter(line: number): void {
    this.pfTrigger = false;
    const room = LINE_IN_PAGE - (line & LINE_IN_PAGE);
    const n = this.degree < room ? this.degree : room;
    const l1 = this.l1;
    for (let k = 1; k <= n; k++) {
      const target = line + k;
      const s1 = target & this.l1Mask;
      if (l1.find(target, s1) >= 0) continue;
      const level = this.fillL2(target);
      l1.insert(target, s1, FLAG_PREFETCHED);
      if (this.inOp) {
        this.prefetches++;
        if (level === LVL_DRAM) this.dramLines++;
      }
    }
  }

  /** Extra cycles the translation of `pa` costs; updates both TLB levels. */
  private translate(pa: number): number {
    const page = Math.floor(pa / this.tlbPageBytes);
    if (this.dtlb.touch(page)) return 0;
    if (this.inOp) this.tlbMisses++;
    this.dtlb.insert(page);
    const stlb = this.stlb;
    const entry = Math.floor(pa / this.stlbEntryBytes);
    const s = entry & this.stlbMask;
    const pos2 = stlb.find(entry, s);
    if (pos2 >= 0) {
      stlb.promote(s, pos2);
      return this.stlbHitCycles;
    }
    if (this.inOp) this.stlbMisses++;
    stlb.insert(entry, s, 0);
    return this.stlbHitCycles + this.walkCycles;
  }

  /** `line` was just made most recent in its L1 set by fetch(), so its payload is at the set's first slot. */
  private waitForStore(line: number, lat: number): number {
    const slot = (line & this.l1Mask) * this.l1Ways;
    const aux = this.l1.aux;
    if (aux[2 * slot] !== this.opId) return lat;
    const wait = aux[2 * slot + 1] - this.path;
    return wait > lat ? wait : lat;
  }

  private markPendingStore(line: number, lat: number): void {
    const slot = (line & this.l1Mask) * this.l1Ways;
    const aux = this.l1.aux;
    const done = this.path + lat;
    aux[2 * slot] = this.opId;
    aux[2 * slot + 1] = done;
    if (done > this.storeDone) this.storeDone = done;
  }

  private count(level: number): void {
    if (level === LVL_L1) this.hitL1++;
    else if (level === LVL_L2) this.hitL2++;
    else if (level === LVL_LLC) this.hitLlc++;
    else {
      this.hitDram++;
      this.dramLines++;
    }
  }

  private request(lat: number): void {
    this.stepHasRequest = true;
    if (lat <= this.l1Lat) return;
    if (this.batchCount === this.mlp) {
      this.stepSum += this.batchMax;
      this.batchCount = 0;
      this.batchMax = 0;
    }
    this.batchCount++;
    if (lat > this.batchMax) this.batchMax = lat;
  }

  private closeStep(): void {
    if (!this.stepHasRequest) return;
    this.path += this.batchCount > 0 ? this.stepSum + this.batchMax : this.l1Lat;
    this.chain++;
    this.resetStep();
  }

  private resetStep(): void {
    this.stepHasRequest = false;
    this.stepSum = 0;
    this.batchCount = 0;
    this.batchMax = 0;
  }

  private charge(event: number): void {
    this.instructions += this.impliedInsn[event];
    this.aluCycles += this.impliedCycles[event];
  }

  private accumulate(c: OpCost): void {
    const t = this.sums;
    t.ops++;
    t.hits.l1 += c.hits.l1;
    t.hits.l2 += c.hits.l2;
    t.hits.llc += c.hits.llc;
    t.hits.dram += c.hits.dram;
    t.tlbMisses += c.tlbMisses;
    t.stlbMisses += c.stlbMisses;
    t.prefetches += c.prefetches;
    t.chain += c.chain;
    if (c.chain > t.maxChain) t.maxChain = c.chain;
    t.atomics += c.atomics;
    t.instructions += c.instructions;
    t.pathCycles += c.pathCycles;
    t.bandwidthCycles += c.bandwidthCycles;
    t.memCycles += c.memCycles;
    t.aluCycles += c.aluCycles;
    t.cycles += c.cycles;
    t.ns += c.ns;
  }
}

function setsOf(sizeBytes: number, ways: number): number {
  return (sizeBytes / (LINE_BYTES * ways)) | 0;
}

function validAccess(pa: number, bytes: number): boolean {
  return (
    pa >= 0 &&
    pa < MAX_PA &&
    Math.floor(pa) === pa &&
    bytes >= 1 &&
    bytes <= PAGE_BYTES &&
    (bytes | 0) === bytes &&
    Math.floor(pa / PAGE_BYTES) === Math.floor((pa + bytes - 1) / PAGE_BYTES)
  );
}

function aluIndex(kind: AluKind): number {
  switch (kind) {
    case 'alu':
      return 0;
    case 'bitop':
      return 1;
    case 'shift':
      return 2;
    case 'mul':
      return 3;
    case 'branch':
      return 4;
    case 'call':
      return 5;
    default:
      return -1;
  }
}

function badAccess(what: string, pa: number, bytes: number): ModelError {
  return new ModelError(
    `${what}(${Number.isSafeInteger(pa) ? `0x${pa.toString(16)}` : String(pa)}, ${bytes}): need an integer address below 2^52 and 1..4096 bytes within one 4 KiB page`,
  );
}

function badAlu(kind: string, count: number): ModelError {
  return new ModelError(`alu(${JSON.stringify(kind)}, ${count}): need one of ${ALU_KINDS.join(', ')} and a non-negative integer count`);
}

function emptyCost(): OpCost {
  return {
    hits: { l1: 0, l2: 0, llc: 0, dram: 0 },
    tlbMisses: 0,
    stlbMisses: 0,
    prefetches: 0,
    chain: 0,
    atomics: 0,
    instructions: 0,
    pathCycles: 0,
    bandwidthCycles: 0,
    memCycles: 0,
    aluCycles: 0,
    cycles: 0,
    ns: 0,
  };
}

function emptyTotals(): ModelTotals {
  return { ...emptyCost(), ops: 0, maxChain: 0 };
}
