import pino from 'pino';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../../../test/fake-do/server.js';
import { DoClient } from './api/client.js';
import { DropletWatch } from './droplet-watch.js';

/**
 * A server's droplet is the one tagged `ood-<server>` that is this installation's: tagged with its
 * `ood:installation:<id>`, or the one its stack records (a droplet from before the tag). Any other is
 * another installation's with the same server id: never returned, so no step ever touches it.
 */
describe('DropletWatch', () => {
  let fake: FakeDo;
  let api: DoClient;
  let warnings: string[];
  let stackAsked: number;
  let stackRecords: number | null;
  const OURS = 'aaaa0001';

  beforeEach(async () => {
    fake = await startFakeDigitalOcean({ ipBase: '127.0.21', actionDelayMs: 10, dropletBootMs: 10 });
    api = new DoClient({ baseUrl: fake.url, token: fake.token });
    warnings = [];
    stackAsked = 0;
    stackRecords = null;
  });
  afterEach(async () => {
    await fake.close();
  });

  function watch(): DropletWatch {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        const line = JSON.parse(chunk.toString()) as { level: number; msg: string };
        if (line.level === 40) warnings.push(line.msg);
        done();
      },
    });
    return new DropletWatch(api, 'ood-world', 30_000, {
      installation: async () => OURS,
      stackDropletId: async () => {
        stackAsked++;
        return stackRecords;
      },
      log: pino({ level: 'warn' }, sink),
    });
  }

  async function droplet(tags: string[]): Promise<number> {
    const res = await fetch(`${fake.url}/v2/droplets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ood-world', region: 'fra1', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { droplet: { id: number } }).droplet.id;
  }

  it("never returns another installation's droplet with the same server id, and warns once about it", async () => {
    const theirs = await droplet(['ood', 'ood-world', 'ood:installation:bbbb0002']);
    const w = watch();
    expect(await w.current(true)).toBeNull();
    expect(await w.current(true)).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`Droplet ${theirs} \\(ood-world\\) is tagged ood-world but is not this installation's: it carries ood:installation:bbbb0002`));
    // Its tag settles it: the stack is not asked.
    expect(stackAsked).toBe(0);
  });

  it("finds its own droplet beside another installation's, without the two-droplets error", async () => {
    await droplet(['ood', 'ood-world', 'ood:installation:bbbb0002']);
    const ours = await droplet(['ood', 'ood-world', `ood:installation:${OURS}`]);
    const w = watch();
    expect((await w.current(true))?.id).toBe(ours);
    expect(w.peek()?.id).toBe(ours);
  });

  it('takes a droplet without an installation tag as its own only when its stack records it', async () => {
    const old = await droplet(['ood', 'ood-world']);
    const w = watch();
    expect(await w.current(true)).toBeNull();
    expect(warnings[0]).toMatch(/carries no installation tag and stack ood-world does not record it/);
    stackRecords = old;
    // A step (and an update) may have changed what the stack records: asked again after `stale()`.
    w.stale();
    expect((await w.current(true))?.id).toBe(old);
  });

  it('takes the droplet it remembers (provisioned.json, an update) as its own without asking the stack', async () => {
    const old = await droplet(['ood', 'ood-world']);
    const w = watch();
    w.remember(old);
    expect((await w.current(true))?.id).toBe(old);
    expect(stackAsked).toBe(0);
  });

  it('still refuses two droplets of its own', async () => {
    await droplet(['ood', 'ood-world', `ood:installation:${OURS}`]);
    await droplet(['ood', 'ood-world', `ood:installation:${OURS}`]);
    await expect(watch().current(true)).rejects.toThrow(/Found 2 droplets tagged ood-world/);
  });
});
