import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_TOKEN } from './api.js';

const BIN = fileURLToPath(new URL('../../bin/ood.mjs', import.meta.url));

export interface ControllerProcess {
  url: string;
  pid: number;
  output(): string;
  /** Settles once the process has ended, with how it ended (`code 1`, `signal SIGKILL`). */
  exited: Promise<string>;
  /** kill -9, and wait until it is gone. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `ood serve` as a separate process, so a test can kill -9 it at any moment. `wrap` is a command that
 * runs the rest of the argv, and must exec it so the pid stays the controller's (see small-disk.ts).
 */
export async function startControllerProcess(configPath: string, extraEnv: Record<string, string> = {}, bin = BIN, wrap: readonly string[] = [], nodeArgs: readonly string[] = []): Promise<ControllerProcess> {
  const [file, ...args] = [...wrap, process.execPath, ...nodeArgs, bin, 'serve', '--config', configPath];
  const child: ChildProcess = spawn(file!, args, {
    env: { ...process.env, OOD_ADMIN_TOKEN: TEST_TOKEN, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left behind: a controller the test never got hold of would run on after it, holding its data dir.
      child.kill('SIGKILL');
      reject(new Error(`ood serve did not start within 60 s:\n${out}`));
    }, 60_000);
    const look = () => {
      const match = /OoD listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code) => reject(new Error(`ood serve exited with ${code}:\n${out}`)));
  });
  return {
    url,
    pid: child.pid!,
    output: () => out,
    exited,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
