/** Shapes of what the stand-in stores, following the real CLI's apitype JSON (checkpoint version 3). */

/** A JSON value as it travels through the engine; secrets are `{[SIG_KEY]: SECRET_SIG, value}`. */
export type PropertyValue = null | boolean | number | string | PropertyValue[] | { [key: string]: PropertyValue };
export type PropertyMap = Record<string, PropertyValue>;

export interface ResourceState {
  urn: string;
  custom: boolean;
  /** Marked for deletion: the old half of a create-before-delete replacement. */
  delete?: boolean;
  id?: string;
  type: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  parent?: string;
  provider?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  deleteBeforeReplace?: boolean;
  created?: string;
  modified?: string;
}

export interface PendingOperation {
  resource: ResourceState;
  type: 'creating' | 'updating' | 'deleting';
}

export interface Deployment {
  manifest: { time: string; magic: string; version: string };
  secrets_providers: { type: 'passphrase'; state: { salt: string } };
  resources: ResourceState[];
  pending_operations?: PendingOperation[];
}

export interface Checkpoint {
  version: 3;
  checkpoint: { stack: string; latest?: Deployment };
}

export type ConfigValue = string | { secure: string };

/** What the real diy backend stores per update (`backend.UpdateInfo`); times in Unix seconds. */
export interface UpdateRecord {
  kind: 'update' | 'destroy';
  startTime: number;
  message: string;
  environment: Record<string, string>;
  config: Record<string, ConfigValue>;
  version: number;
  result: 'succeeded' | 'failed' | 'in-progress';
  endTime: number;
  resourceChanges?: Record<string, number>;
}
