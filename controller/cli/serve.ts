import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { adminTokenPath, resolveAdminToken } from '../admin-token.js';
import { createApp } from '../api/app.js';
import type { OodEnv } from '../config/env.js';
import type { LoadedConfig } from '../config/load.js';
import { Controller } from '../controller.js';
import { controllerInfoPath } from './controller-info.js';
import { ConfigError, messageOf } from '../errors.js';
import { checkPulumi } from '../drivers/digitalocean/stack-process.js';
import type { Logger } from '../log.js';


export interface Serving {
  url: string;
  controller: Controller;
  close(): Promise<void>;
}

/** Opens the controller, starts every server's loop and the HTTP API. */
export async function serve(loaded: LoadedConfig, env: OodEnv, log: Logger): Promise<Serving> {
  const { config } = loaded;
  await checkCloudTools(config, env, log);
  // The lock first: a second controller starting at the same moment must not rewrite the token file.
  const controller = Controller.open(config, { log, childEnv: env.childEnv, env, failpoints: env.failpoints });
  let http: Server;
  try {
    const { token } = resolveAdminToken(env.adminToken, config.dataDir);
    http = createServer(createApp(controller, { adminToken: token, log }).callback());
    http.on('clientError', answerClientError);
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, config.listen)));
      http.listen(config.listen.port, config.listen.host, resolve);
    });
  } catch (err) {
    await controller.close();
    throw err;
  }
  const { port } = http.address() as AddressInfo;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `http://${host}:${port}`;
  // So that `ood status` and friends find this controller even when it listens on a random port.
  const infoPath = controllerInfoPath(config.dataDir);
  writeFileSync(infoPath, JSON.stringify({ url, pid: process.pid }));
  controller.start();
  return {
    url,
    controller,
    close: async () => {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await controller.close();
      rmSync(infoPath, { force: true });
    },
  };
}

/**
 * Servers on the DigitalOcean driver need the `pulumi` CLI and a token: missing either is a clear
 * error at start-up, not a failure at the first Start press.
 */
async function checkCloudTools(config: LoadedConfig['config'], env: OodEnv, log: Logger): Promise<void> {
  const cloud = config.servers.filter((s) => s.driver === 'digitalocean').map((s) => s.id);
  if (cloud.length === 0) return;
  if (!env.digitalocean.token) {
    throw new ConfigError(`Server${cloud.length > 1 ? 's' : ''} ${cloud.join(', ')} use${cloud.length > 1 ? '' : 's'} driver digitalocean, but DIGITALOCEAN_TOKEN is not set: create a read/write token in the DigitalOcean console (API → Tokens) and export it`);
  }
  try {
    await checkPulumi(config.pulumi.command, config.dataDir, log);
  } catch (err) {
    throw new ConfigError(`Server${cloud.length > 1 ? 's' : ''} ${cloud.join(', ')} on driver digitalocean: ${messageOf(err)}`, { cause: err });
  }
}

/** A port in use or an address that is not this machine's, said with how to choose another. */
function listenError(err: NodeJS.ErrnoException, listen: { host: string; port: number }): Error {
  const where = `${listen.host}:${listen.port}`;
  if (err.code === 'EADDRINUSE') {
    return new ConfigError(`Port ${listen.port} on ${listen.host} is already in use (another OoD, or another program). Choose another with --port N, OOD_PORT=N or listen.port in ood.yaml`, { cause: err });
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
    return new ConfigError(`Cannot listen on ${where}: ${listen.host} is not an address of this machine. Choose another with --host, OOD_HOST or listen.host in ood.yaml`, { cause: err });
  }
  if (err.code === 'EACCES') return new ConfigError(`Not allowed to listen on ${where} (ports below 1024 need privileges). Choose another with --port N, OOD_PORT=N or listen.port`, { cause: err });
  return err;
}

/**
 * Requests Node's HTTP parser rejects before Koa sees them (headers too large, garbage) still get the
 * API's JSON error shape rather than Node's empty body.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are larger than this server accepts (16 KB)']
      : [400, 'Bad Request', `the request is not valid HTTP (${err.code ?? err.message})`];
  const body = JSON.stringify({ error: message });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** What `ood serve` prints once it listens: where, and how to get in. */
export function greeting(url: string, loaded: LoadedConfig, env: OodEnv): string {
  const { config } = loaded;
  const lines = [
    `OoD listening on ${url}`,
    `  config: ${loaded.source ?? 'embedded default (no ood.yaml): one local server "world", data in ' + config.dataDir}`,
    env.adminToken
      ? '  API and CLI: authenticate with the OOD_ADMIN_TOKEN you set'
      : `  API and CLI: the admin token is in ${adminTokenPath(config.dataDir)} (mode 0600); \`npx ood\` here reads it`,
    '  try: npx ood status · npx ood start <server> --wait · npx ood stop <server> --wait',
  ];
  for (const s of config.servers) lines.push(`  server "${s.id}": players join ${s.local.publicHost}:${s.game.port} once it runs`);
  return lines.join('\n');
}
