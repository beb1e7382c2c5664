/**
 * Runs a generated program against a cluster, logging every operation in
 * the oracle. Steps run in order; the operations of one `ops` step run
 * concurrently (on different instances, truly in parallel).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Mutation } from '../fixtures/mutations.js';
import type { Cluster } from './cluster.js';
import { token } from './content.js';
import { editOnDisk, type DiskEditResult } from './disk-edit.js';
import { describeOp, INSTANCES, name, type OpStep, type Step } from './model.js';
import type { Oracle } from './oracle.js';

const SYNC_POINT_MS = 5_000;

export class ProgramRunner {
  private tokenCount = 0;
  private opCount = 0;
  /** Edits made on disk by "another program" so far. */
  diskEdits = 0;
  /** Disk edits replaced inside the compare-to-rename window (see diskEdit). */
  diskEditsOverwritten = 0;
  /** Rename saves that replaced a scopefs write landing inside their own check-to-rename window. */
  diskEditsClobbering = 0;
  /** Each applied disk edit's times (CLOCK_MONOTONIC ns), for a report of lost data. */
  readonly diskEditTimes: string[] = [];
  /** Steps finished so far (a stuck run reports where it stopped). */
  stepsDone = 0;
  private aborted = false;
  /** How long each operation took to answer (ms), for "keeps serving" checks. */
  readonly latencies: number[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly oracle: Oracle,
  ) {}

  get operations(): number {
    return this.opCount;
  }

  async run(program: readonly Step[]): Promise<void> {
    for (const step of program) {
      if (this.aborted) throw new Error('the run was abandoned');
      await this.step(step);
      this.stepsDone++;
    }
  }

  /** Stops a stuck run at its next step, so it cannot act on the processes of the next seed. */
  abort(): void {
    this.aborted = true;
  }

  async step(step: Step): Promise<void> {
    const { cluster } = this;
    switch (step.type) {
      case 'ops':
        await Promise.all(step.ops.map((op) => this.operate(op)));
        return;
      case 'sync':
        // A sync point lets time pass until the instance caught up. A partitioned one cannot, and
        // one paused by the safety gate waits for the final settle to confirm it: both are skipped.
        if (!cluster.isPartitioned(step.inst)) await cluster.idleWithin(step.inst, SYNC_POINT_MS);
        return;
      case 'partition':
        return cluster.partition(step.inst);
      case 'heal':
        return cluster.heal(step.inst);
      case 'crashSync':
        return cluster.crashSync(step.inst);
      case 'kill':
        return this.kill(step);
      case 'diskEdit':
        return this.diskEdit(step);
      case 'resolve':
        // A sync actor that is restarting (an injected crash) cannot answer; the final resolution catches up.
        await cluster.call(step.inst, step.how === 'api' ? 'resolveUnion' : 'resolveByEditing').catch((err: { code?: string }) => {
          if (err.code !== 'ESTOPPED') throw err;
        });
        return;
    }
  }

  /**
   * SIGKILL at a chosen moment: between operations, in the middle of a burst
   * of them (so some are acknowledged and journaled, one is mid-write, the
   * rest never arrive), or while a pull of another instance's write is likely running.
   */
  private async kill(step: Extract<Step, { type: 'kill' }>): Promise<void> {
    const { cluster } = this;
    if (step.moment === 'mid-op') {
      const inFlight = Promise.all(Array.from({ length: step.burst }, () => this.operate({ ...step.op, inst: step.inst })));
      await delay(step.delayMs);
      await cluster.kill(step.inst);
      await inFlight;
    } else {
      if (step.moment === 'mid-sync') {
        await this.operate({ ...step.op, inst: (step.inst + 1) % INSTANCES });
        await delay(step.delayMs);
      }
      await cluster.kill(step.inst);
    }
    await cluster.restart(step.inst);
  }

  /**
   * Another program edits the instance's disk. The edit is acknowledged once
   * it is on disk (its tokens must survive from then on); the instance is
   * then asked to look at the path, as its watcher does, so the next steps
   * find it seen. A watcher event may well have done so already.
   */
  private async diskEdit(step: Extract<Step, { type: 'diskEdit' }>): Promise<void> {
    const tokens = Array.from({ length: step.adds }, () => token(++this.tokenCount));
    const log = this.oracle.begin(`disk${++this.diskEdits} ${name(step.inst)} ${step.how} ${step.path} ${tokens.join(' ')}`.trim(), tokens);
    const result = await editOnDisk(this.cluster.rootOf(step.inst), step.path, step.how, tokens);
    if (!result.applied) return log.failed();
    this.diskEditTimes.push(`disk${this.diskEdits} ${name(step.inst)} ${step.how} ${step.path}: checked ${result.checkedAt ?? '-'}, took effect ${result.from ?? '-'}..${result.to ?? '-'}, saved ${(result.saved ?? []).join(' ')}`);
    await this.cluster.call(step.inst, 'checkDisk', { path: step.path });
    if (await this.replacedInWindow(step, result, tokens)) {
      this.diskEditsOverwritten++;
      return log.unknown();
    }
    const clobbered = await this.clobberedInWindow(step, result);
    if (clobbered.length > 0) this.diskEditsClobbering++;
    log.acked([...result.removed, ...clobbered]);
  }

  /**
   * The mirror of replacedInWindow: the tokens of a scopefs write of the path
   * that landed between a rename save's check and its rename, which the save
   * replaced without having read them. Another program's lost update, which
   * no program on the disk can prevent; any other disappearance is a loss.
   */
  private async clobberedInWindow(step: Extract<Step, { type: 'diskEdit' }>, edit: DiskEditResult): Promise<string[]> {
    if (edit.checkedAt === undefined || edit.to === undefined) return [];
    return this.cluster.call<string[]>(step.inst, 'clobberedWithin', { path: step.path, from: edit.checkedAt, to: edit.to, saved: edit.saved ?? [] });
  }

  /**
   * Whether the instance wrote (or deleted) the path within the residual window of its on-disk
   * compare-and-swap (its check, then its rename, microseconds apart) around the moment the edit took
   * effect, and the edit left no trace. Only then may the edit be counted as one that did not happen:
   * any other disappearance of its tokens is a loss the oracle reports.
   */
  private async replacedInWindow(step: Extract<Step, { type: 'diskEdit' }>, edit: DiskEditResult, tokens: readonly string[]): Promise<boolean> {
    if (tokens.length === 0 || edit.from === undefined || (await this.anyFileHolds(step.inst, tokens))) return false;
    const writes = await this.cluster.call<number>(step.inst, 'replacedWithin', { path: step.path, from: edit.from, to: edit.to, tokens });
    return writes > 0;
  }

  /** Whether a file the instance serves (after a flush, which reconciles the disk) holds any of `tokens`. */
  private async anyFileHolds(inst: number, tokens: readonly string[]): Promise<boolean> {
    const files = await this.cluster.call<Record<string, string>>(inst, 'snapshot', { flush: true });
    const texts = Object.values(files).map((b64) => Buffer.from(b64, 'base64').toString('utf8'));
    return tokens.some((t) => texts.some((text) => text.includes(t)));
  }

  private async operate(op: OpStep): Promise<void> {
    const tokens = Array.from({ length: op.adds }, () => token(++this.tokenCount));
    const mutation: Mutation = { kind: op.kind, path: op.path, to: op.to, tokens, pick: op.pick, padding: op.padding };
    const log = this.oracle.begin(`op${++this.opCount} ${describeOp(op)} ${tokens.join(' ')}`.trim(), tokens);
    const started = performance.now();
    await this.cluster.mutate(op.inst, mutation, log);
    this.latencies.push(performance.now() - started);
  }
}
