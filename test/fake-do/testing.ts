/** Small helpers for tests that drive the fake directly: a recording client, an SSH key, an in-memory backend. */
import { generateKeyPairSync } from 'node:crypto';
import type { MachineBackend, MachineSpec } from './machines.js';
import type { Exchange } from './openapi-contract.js';

export interface Answer extends Exchange {
  // Tests read into answers freely; the contract test checks their shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Calls the fake like an API client would, keeping every exchange for later checks. */
export function recordingClient(url: string, token: string) {
  const exchanges: Answer[] = [];
  const call = async (method: string, path: string, body?: unknown, opts: { token?: string | null } = {}): Promise<Answer> => {
    const auth = opts.token === null ? undefined : (opts.token ?? token);
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const answer: Answer = {
      method,
      path: path.split('?')[0] ?? path,
      status: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      body: text === '' ? undefined : JSON.parse(text),
    };
    exchanges.push(answer);
    return answer;
  };
  return { call, exchanges };
}

/** A fresh ed25519 public key in OpenSSH's one-line format. */
export function openSshEd25519(comment = 'fake-do-test'): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} ${comment}`;
}

/** Machines that only remember what was asked of them; `hold*` lets a test decide when a call returns. */
export class MemoryMachines implements MachineBackend {
  readonly calls: string[] = [];
  readonly specs = new Map<number, MachineSpec>();
  readonly power = new Map<number, 'on' | 'off'>();
  /** When set, `create` rejects with it. */
  failCreate: Error | undefined;
  /** Resolves when a create may finish; replace to hold creates back. */
  createGate: Promise<void> = Promise.resolve();

  async create(spec: MachineSpec): Promise<void> {
    this.calls.push(`create ${spec.id}`);
    await this.createGate;
    if (this.failCreate) throw this.failCreate;
    this.specs.set(spec.id, spec);
    this.power.set(spec.id, 'on');
  }
  async powerOff(id: number, graceful: boolean): Promise<void> {
    this.calls.push(`powerOff ${id} ${graceful ? 'graceful' : 'hard'}`);
    this.power.set(id, 'off');
  }
  async powerOn(id: number): Promise<void> {
    this.calls.push(`powerOn ${id}`);
    this.power.set(id, 'on');
  }
  async snapshot(id: number, archive: string): Promise<{ bytes: number }> {
    this.calls.push(`snapshot ${id} ${archive}`);
    return { bytes: 3 * 1024 ** 3 };
  }
  async destroy(id: number): Promise<void> {
    this.calls.push(`destroy ${id}`);
    this.specs.delete(id);
    this.power.delete(id);
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
}
