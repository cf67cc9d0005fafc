import type { FileBackend } from '../backend.js';
import { err, out } from '../output.js';
import type { PropertyMap, ResourceState } from '../types.js';
import type { EventSink } from './events.js';
import { masked } from './properties.js';

export type StepOp = 'same' | 'create' | 'update' | 'replace' | 'delete';
const SYMBOL: Record<StepOp, string> = { same: '   ', create: ' + ', update: ' ~ ', replace: ' +-', delete: ' - ' };
const DONE: Record<StepOp, string> = { same: '', create: 'created', update: 'updated', replace: 'replaced', delete: 'deleted' };
const DOING: Record<StepOp, string> = { same: '', create: 'creating', update: 'updating', replace: 'replacing', delete: 'deleting' };

/** Progress lines on stdout (what Automation's onOutput sees), engine events, and the backend's log. Secrets masked everywhere. */
export class Reporter {
  readonly errors: string[] = [];

  constructor(
    private readonly events: EventSink,
    private readonly backend: FileBackend,
  ) {}

  prelude(title: string, config: Record<string, { value: string; secret: boolean }>): void {
    out(title);
    this.events.emit({
      preludeEvent: { config: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.secret ? '[secret]' : v.value])) },
    });
  }

  stepStart(op: StepOp, urn: string, type: string, olds?: ResourceState, news?: ResourceState): void {
    if (op !== 'same') out(`${SYMBOL[op]} ${type} ${nameOf(urn)} ${DOING[op]}`);
    this.events.emit({ resourcePreEvent: { metadata: metadata(op, urn, type, olds, news), planning: false } });
  }

  stepDone(op: StepOp, urn: string, type: string, ms: number, olds?: ResourceState, news?: ResourceState): void {
    if (op !== 'same') out(`${SYMBOL[op]} ${type} ${nameOf(urn)} ${DONE[op]} (${Math.round(ms / 1000)}s)`);
    this.backend.log(`step ${op} ${urn}${news?.id ? ` id=${news.id}` : ''}`);
    this.events.emit({ resOutputsEvent: { metadata: metadata(op, urn, type, olds, news), planning: false } });
  }

  stepFailed(op: StepOp, urn: string, type: string, message: string): void {
    this.events.emit({ resOpFailedEvent: { metadata: metadata(op, urn, type), status: 0, steps: 1 } });
    this.diag('error', `${type} (${nameOf(urn)}):\n    error: ${message}`, urn);
  }

  /** Program and engine diagnostics; errors also go to stderr so callers see why an update failed. */
  diag(severity: 'debug' | 'info' | 'warning' | 'error', message: string, urn = ''): void {
    this.events.emit({ diagnosticEvent: { urn, prefix: severity === 'info' ? '' : `${severity}: `, message: `${message}\n`, color: 'raw', severity, ephemeral: false } });
    if (severity === 'debug') return;
    const text = severity === 'info' ? message : `${severity}: ${message}`;
    out(`    ${text.trimEnd()}`);
    if (severity === 'error') {
      this.errors.push(message);
      err(text);
    }
    this.backend.log(`diag ${severity}: ${message.slice(0, 300).replace(/\n/g, ' | ')}`);
  }

  summary(changes: Record<string, number>, seconds: number, outputs?: PropertyMap): void {
    if (outputs && Object.keys(outputs).length > 0) {
      out('Outputs:');
      for (const [k, v] of Object.entries(outputs)) out(`    ${k}: ${JSON.stringify(masked(v))}`);
    }
    out('Resources:');
    for (const [op, n] of Object.entries(changes)) out(`    ${n} ${op === 'same' ? 'unchanged' : DONE[op as StepOp] || op}`);
    out(`Duration: ${seconds}s`);
    this.events.emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: seconds, resourceChanges: changes, policyPacks: {} } });
  }
}

function nameOf(urn: string): string {
  return urn.split('::').pop() ?? urn;
}

function stateMeta(s: ResourceState): Record<string, unknown> {
  return {
    type: s.type,
    urn: s.urn,
    custom: s.custom,
    delete: s.delete ?? false,
    id: s.id ?? '',
    parent: s.parent ?? '',
    protect: false,
    inputs: masked(s.inputs),
    outputs: masked(s.outputs),
    provider: s.provider ?? '',
  };
}

function metadata(op: StepOp, urn: string, type: string, olds?: ResourceState, news?: ResourceState): Record<string, unknown> {
  return {
    op,
    urn,
    type,
    ...(olds ? { old: stateMeta(olds) } : {}),
    ...(news ? { new: stateMeta(news) } : {}),
    provider: news?.provider ?? olds?.provider ?? '',
  };
}
