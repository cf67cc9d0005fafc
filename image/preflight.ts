import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { Config, ServerConfig } from '../controller/config/schema.js';
import { DoHttp } from '../controller/drivers/digitalocean/api/http.js';
import { checkPulumi } from '../controller/drivers/digitalocean/stack-process.js';
import { messageOf } from '../controller/errors.js';
import type { Logger } from '../controller/log.js';
import { checkServerForBuild } from './build-guard.js';
import { ImagePreflightError } from './errors.js';
import { jarVars, type JarOptions } from './jar-source.js';

const run = promisify(execFile);

export interface PreflightOptions {
  config: Config;
  jar: JarOptions;
  /** `--for`: the server the image is for (default: the only DigitalOcean one). */
  for?: string;
  /** `--from-server`: rebuild from that server's newest snapshot. */
  fromServer?: string;
  /** `--world`: a directory holding level.dat, a .zip or a .tar.gz. */
  world?: string;
  /** `--host`: only the playbook on a machine the admin has; only the checks that concern it run. */
  host?: string;
  force: boolean;
  digitalocean: { token: string | undefined; apiUrl: string };
  log: Logger;
}

export type PreflightResult =
  | { host: string; vars: Record<string, unknown> }
  | { host?: undefined; vars: Record<string, unknown>; server: ServerConfig; fromServer?: ServerConfig; token: string };

/**
 * Everything `ood image build` can check before it spends anything, in the order a person fixes
 * them: the jar source and checksum, the EULA, the server (exists, is a DigitalOcean one, is
 * archived), the token, `ansible-playbook` and `pulumi` on this machine, and DigitalOcean answering
 * with that token. Each refusal is an `ImagePreflightError` naming the problem; nothing is created
 * (no stack, droplet, key or build mark), and DigitalOcean sees one GET at most.
 */
export async function preflight(o: PreflightOptions): Promise<PreflightResult> {
  const vars = jarVars(o.jar);
  if (o.world !== undefined) checkWorld(o.world);
  if (o.host) {
    await checkAnsible();
    return { host: o.host, vars };
  }
  const server = pickServer(o.config, o.for);
  const fromServer = o.fromServer === undefined ? undefined : pickServer(o.config, o.fromServer, '--from-server');
  checkServerForBuild({ dataDir: o.config.dataDir, server: server.id, force: o.force });
  const token = o.digitalocean.token;
  if (!token) {
    throw new ImagePreflightError('token', 'DIGITALOCEAN_TOKEN is not set: create a read/write token in the DigitalOcean console (API → Tokens) and export it');
  }
  await checkAnsible();
  try {
    await checkPulumi(o.config.pulumi.command, o.config.dataDir, o.log);
  } catch (err) {
    throw new ImagePreflightError('pulumi', messageOf(err), { cause: err });
  }
  await checkAccount(o.digitalocean.apiUrl, token);
  return { vars, server, ...(fromServer ? { fromServer } : {}), token };
}

/** What build.ts's upload can tell without unpacking: the path is there, and a directory is a world. An archive's inside is checked on upload. */
function checkWorld(world: string): void {
  if (!existsSync(world)) throw new ImagePreflightError('arguments', `--world ${world} does not exist`);
  if (statSync(world).isDirectory()) {
    if (!existsSync(join(world, 'level.dat'))) throw new ImagePreflightError('arguments', `--world ${world} holds no level.dat: is it a Minecraft world?`);
  } else if (!/\.(zip|tar\.gz|tgz)$/i.test(world)) {
    throw new ImagePreflightError('arguments', `--world ${world}: expected a directory, a .zip or a .tar.gz`);
  }
}

function pickServer(config: Config, id: string | undefined, flag = '--for'): ServerConfig {
  const cloud = config.servers.filter((s) => s.driver === 'digitalocean');
  const known = `DigitalOcean servers: ${cloud.map((s) => s.id).join(', ') || 'none'}`;
  if (id === undefined) {
    if (cloud.length === 1) return cloud[0]!;
    throw new ImagePreflightError('server', `Say which server the image is for with --for <server> (${known})`);
  }
  const server = config.servers.find((s) => s.id === id);
  if (!server) throw new ImagePreflightError('server', `${flag} ${id}: no server by that id in the config (${known})`);
  if (server.driver !== 'digitalocean') throw new ImagePreflightError('server', `${flag} ${id}: ${id} runs on the ${server.driver} driver; an image is for a DigitalOcean server (${known})`);
  return server;
}

/** The play runs from this machine: without `ansible-playbook` a builder would be made for nothing. */
async function checkAnsible(): Promise<void> {
  try {
    await run('ansible-playbook', ['--version'], { timeout: 60_000 });
  } catch (err) {
    throw new ImagePreflightError('ansible', `ansible-playbook could not run on this machine (${messageOf(err).split('\n')[0]}); install Ansible (Debian: apt install ansible)`, { cause: err });
  }
}

const accountSchema = z.object({ account: z.object({ status: z.string().optional(), status_message: z.string().optional() }) });

/** GET /v2/account with the token: proves the address, the token and that the account may create droplets. */
async function checkAccount(apiUrl: string, token: string): Promise<void> {
  // Few retries and a short deadline: a check that hangs for minutes is no better than the build failing.
  const http = new DoHttp({ baseUrl: apiUrl, token, maxRetries: 1, backoffMs: 500, requestTimeoutMs: 15_000, maxRateLimitWaitMs: 10_000 });
  let body: unknown;
  try {
    body = (await http.send({ method: 'GET', path: '/v2/account', idempotent: true })).body;
  } catch (err) {
    throw new ImagePreflightError('api', `DigitalOcean did not answer GET /v2/account as it should: ${messageOf(err)}; check DIGITALOCEAN_TOKEN (a read/write token) and DIGITALOCEAN_API_URL (${apiUrl})`, { cause: err });
  }
  const parsed = accountSchema.safeParse(body);
  if (!parsed.success) throw new ImagePreflightError('api', `DigitalOcean answered GET /v2/account without an account: is DIGITALOCEAN_API_URL (${apiUrl}) DigitalOcean's API?`);
  const { status, status_message: why } = parsed.data.account;
  if (status === 'locked') throw new ImagePreflightError('api', `The DigitalOcean account is locked${why ? ` (${why})` : ''}: it cannot create the builder droplet; see the DigitalOcean console`);
}
