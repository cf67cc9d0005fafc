import type { DoApi } from './do-api.js';
import type { PropertyMap } from './values.js';

/**
 * One resource type of the plugin, in plain values (secrets unwrapped by `provider.ts`). `olds` are
 * the outputs in the state (the Node provider server hands Diff, Update, Read and Delete the old
 * outputs, never the old inputs), `news` the checked inputs.
 */
export interface DoResource {
  /** The schema's defaults filled in. */
  check(news: PropertyMap): PropertyMap;
  diff(olds: PropertyMap, news: PropertyMap): Diff;
  create(api: DoApi, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }>;
  /** The current outputs, or null when DigitalOcean no longer has it. */
  read(api: DoApi, id: string, olds: PropertyMap): Promise<PropertyMap | null>;
  update(api: DoApi, id: string, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap>;
  delete(api: DoApi, id: string, olds: PropertyMap): Promise<void>;
}

export interface Diff {
  /** Top-level inputs that differ from the state. */
  changes: string[];
  /** Those of them that replace the resource (ForceNew). */
  replaces: string[];
}

/**
 * Created but not ready: the provider server turns an error with `id` and `properties` into
 * ErrorResourceInitFailed, so the engine records the resource (as the bridge does for a droplet that
 * never became active) instead of forgetting it.
 */
export class ResourceInitError extends Error {
  readonly reasons: string[];
  constructor(
    message: string,
    readonly id: string,
    readonly properties: PropertyMap,
  ) {
    super(message);
    this.name = 'ResourceInitError';
    this.reasons = [message];
  }
}

export const FINDING = 'OoD finding:';

type Sink = (message: string) => Promise<void>;
let sink: Sink | undefined;

/** Where findings go besides stderr: main.ts sends them to the engine's Log service. */
export function setFindingSink(s: Sink): void {
  sink = s;
}

/**
 * A call OoD's program should never cause (rename, resize, tags, backups, IPv6). The engine does not
 * show a plugin's stderr in the update's output (only in its own verbose log), so the warning goes to
 * the engine's Log service too, which prints it as a diagnostic that reaches OoD's log.
 */
export async function finding(message: string): Promise<void> {
  const text = `${FINDING} the DigitalOcean provider ${message}`;
  process.stderr.write(`warning: ${text}\n`);
  await sink?.(text).catch((err: unknown) => {
    process.stderr.write(`Could not send a finding to the engine: ${(err as Error).message}\n`);
  });
}
