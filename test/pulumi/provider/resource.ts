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

/**
 * A call OoD's program should never cause (rename, resize, tags, backups, IPv6). The engine shows a
 * plugin's stderr in the update's output, so it reaches OoD's log and a test can look for it.
 */
export function finding(message: string): void {
  process.stderr.write(`warning: ${FINDING} the DigitalOcean provider ${message}\n`);
}
