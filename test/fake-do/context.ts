/** What every route module gets: the state, the faults, the background tasks and the resolved options. */
import type { Faults } from './faults.js';
import type { MachineBackend } from './machines.js';
import type { FakeDoState } from './state.js';
import type { Tasks } from './tasks.js';
import type { Lifecycle } from './lifecycle.js';

export interface Settings {
  snapshotListingDelayMs: number;
  actionDelayMs: number;
  dropletBootMs: number;
  ipBase: string;
  /** Where snapshot archives go; set whenever there is a machine backend. */
  dataDir: string | undefined;
}

export interface Ctx {
  life: Lifecycle;
  state: FakeDoState;
  faults: Faults;
  tasks: Tasks;
  machines: MachineBackend | undefined;
  settings: Settings;
  /** `http://127.0.0.1:PORT`, for the absolute links the API gives. */
  baseUrl: () => string;
}

export const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
