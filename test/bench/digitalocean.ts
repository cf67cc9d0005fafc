import { npmStartNodeArgs } from './scale.js';
import { readFileSync } from 'node:fs';
import { apiFor } from '../helpers/api.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { makeDoWorld } from '../helpers/do-world.js';
import { waitUntil } from '../helpers/wait.js';

export type Row = (metric: string, value: string, baseline: string, target: string, ok: boolean) => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** utime + stime of a process itself, and of its reaped children (the `pulumi` runs), in seconds. */
function cpuSeconds(pid: number): { own: number; children: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { own: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/**
 * Full start + stop cycles on `driver: digitalocean` against the fake API, loopback droplets and the
 * real `pulumi` CLI with OoD's provider plugin (test/helpers/do-world.ts): DigitalOcean calls per cycle (all of them, OoD's own and the Pulumi provider's),
 * the controller's own CPU time per cycle (what it spends, not what it waits for), and its RSS while
 * one droplet runs.
 */
export async function digitalOceanCycle(row: Row, bundle: string, runs = 3): Promise<void> {
  const world = await makeDoWorld();
  const controller = await startControllerProcess(world.configPath, world.env, bundle, [], npmStartNodeArgs());
  try {
    const api = apiFor(controller.url);
    const calls: number[] = [];
    const own: number[] = [];
    const cpu: number[] = [];
    const workers: number[] = [];
    const rss: number[] = [];
    await new Promise((r) => setTimeout(r, 3_000)); // the orphan watch's first look is not part of a cycle
    for (let i = 0; i < runs; i++) {
      const from = world.fake.requests.length;
      const before = cpuSeconds(controller.pid);
      await api.start();
      await waitUntil('running', async () => (await api.server()).phase === 'running', 180_000, 100);
      await new Promise((r) => setTimeout(r, 3_000));
      rss.push(rssMb(controller.pid));
      await api.stop();
      await waitUntil('archived', async () => (await api.server()).phase === 'archived', 180_000, 100);
      const requests = world.fake.requests.slice(from);
      calls.push(requests.length);
      own.push(requests.filter((r) => r.userAgent.startsWith('ood')).length);
      const after = cpuSeconds(controller.pid);
      cpu.push(after.own - before.own);
      workers.push(after.children - before.children);
    }
    const c = median(calls);
    row('DigitalOcean API calls per start + stop cycle', `${c}`, `OoD's own ${median(own)}, Pulumi provider ${c - median(own)}; ${runs} runs: ${calls.join(', ')}`, '≤ 40 (limit 250/min)', c <= 40);
    row(
      'controller CPU per DigitalOcean cycle (not waiting)',
      `${median(cpu).toFixed(2)} s`,
      `${runs} runs: ${cpu.map((x) => x.toFixed(2)).join(', ')}; its Pulumi workers and the pulumi CLI: ${median(workers).toFixed(2)} s`,
      '≤ 1 s',
      median(cpu) <= 1,
    );
    row('controller RSS with one droplet running', `${median(rss).toFixed(1)} MB`, `${runs} runs: ${rss.map((x) => x.toFixed(1)).join(', ')}`, '≤ 100 MB', median(rss) <= 100);
  } finally {
    await controller.stop();
    await world.cleanup();
  }
}
