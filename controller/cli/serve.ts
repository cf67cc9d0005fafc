import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { adminTokenPath, resolveAdminToken } from '../admin-token.js';
import { createApp } from '../api/app.js';
import type { OodEnv } from '../config/env.js';
import type { LoadedConfig } from '../config/load.js';
import type { ServerConfig } from '../config/schema.js';
import { Controller, type ConfigReload, type Request } from '../controller.js';
import { readConfigFile } from '../config/load.js';
import { controllerInfoPath } from './controller-info.js';
import { localAdminLink } from '../web/auth/local-admin.js';
import { validateForServe } from '../config/serve-checks.js';
import { isLoopbackHost } from '../net/loopback-host.js';
import { resolveSessionKeys } from '../web/session-keys.js';
import type { Web } from '../web/web.js';
import { ConfigError, messageOf } from '../errors.js';
import { checkPulumi } from '../drivers/digitalocean/stack-process.js';
import type { Logger } from '../log.js';
import { formatAddress, playerAddress } from '../servers/player-address.js';


export interface Serving {
  url: string;
  controller: Controller;
  /** A one-time login link for the first admin, when no provider is configured or nobody is admin yet. */
  loginLink: string | undefined;
  /** Reads the config file again and applies what can change while running (`ood config reload`, SIGHUP). */
  reload(who: Request): ConfigReload;
  close(): Promise<void>;
}

/** Opens the controller, starts every server's loop and the HTTP API. */
export async function serve(loaded: LoadedConfig, env: OodEnv, log: Logger): Promise<Serving> {
  const { config } = loaded;
  const { providers } = validateForServe(config, env);
  await checkCloudTools(config, log);
  // The lock first: a second controller starting at the same moment must not rewrite the token file.
  const controller = Controller.open(config, { log, childEnv: env.childEnv, env, failpoints: env.failpoints, notifications: env.notifications, discord: env.discord });
  let http: Server | undefined;
  let web: Web;
  let url: string;
  let loginLink: string | undefined;
  const reload = (who: Request) => reloadConfig(loaded, env, controller, who, log);
  try {
    const { token } = resolveAdminToken(env.adminToken, config.dataDir);
    const sessionKeys = resolveSessionKeys(env.web.sessionKeys, config.dataDir);
    // Listen first: with port 0 the address, and so the OAuth redirect URIs, are known only then.
    const server = (http = createServer());
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, config.listen)));
      server.listen(config.listen.port, config.listen.host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
    url = `http://${host}:${port}`;
    const origin = config.web.publicUrl ?? url;
    const created = createApp(controller, { adminToken: token, log, web: { providers, origin, sessionKeys }, reloadConfig: (who) => reload(who) });
    web = created.web;
    server.on('request', created.app.callback());
    loginLink = firstAdminLink(controller, config, providers.length, origin);
  } catch (err) {
    http?.close();
    await controller.close();
    throw err;
  }
  if (!isLoopbackHost(config.listen.host)) {
    log.warn({ host: config.listen.host, providers: providers.map((p) => p.name) }, `OoD listens on ${config.listen.host}, beyond this machine: anyone who can reach it sees the login page`);
  }
  if (config.web.publicUrl?.startsWith('https:') && !config.web.trustProxy) {
    log.warn('web.publicUrl is https but web.trustProxy is off: behind a proxy that ends TLS, cookies are not marked Secure until trustProxy is the number of proxies (1 for one)');
  }
  // So that `ood status` and friends find this controller even when it listens on a random port.
  const infoPath = controllerInfoPath(config.dataDir);
  writeFileSync(infoPath, JSON.stringify({ url, pid: process.pid }));
  controller.start();
  return {
    url,
    controller,
    loginLink,
    reload,
    close: async () => {
      web.close();
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
 * The file is read and checked as at start (schema, then what serve refuses); a file that fails
 * applies nothing, and the refusal is logged and audited like a reload that applied.
 */
function reloadConfig(loaded: LoadedConfig, env: OodEnv, controller: Controller, who: Request, log: Logger): ConfigReload {
  try {
    if (loaded.source === null) throw new ConfigError('OoD runs on the embedded default (no ood.yaml): there is no file to reload; write an ood.yaml and restart OoD with it');
    const next = readConfigFile(loaded.source, loaded.listen);
    validateForServe(next, env);
    return controller.applyConfig(next, who);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    controller.store.audit.add({ at: Date.now(), actor: who.actor, source: who.source, action: 'config reload refused', server: null, detail: err.message });
    log.error({ by: who.actor, err: err.message }, 'Did not reload the config: the file is not valid; OoD goes on with the config it runs');
    throw err;
  }
}

/**
 * The people named admins in the config are made admins; and when nobody could log in as an admin
 * (no provider, or no admin yet), a one-time link for `local:admin`, valid once and for ten minutes.
 */
function firstAdminLink(controller: Controller, config: LoadedConfig['config'], providers: number, origin: string): string | undefined {
  const { people } = controller.store;
  const now = Date.now();
  people.ensureAdmins(config.web.admins, now);
  if (providers > 0 && people.admins().length > 0) return undefined;
  return localAdminLink(controller.store, origin, 'ood serve', now).link;
}

/**
 * Servers on the DigitalOcean driver need the `pulumi` CLI (their token is the config's check): a
 * missing CLI is a clear error at start-up, not a failure at the first Start press.
 */
async function checkCloudTools(config: LoadedConfig['config'], log: Logger): Promise<void> {
  const cloud = config.servers.filter((s) => s.driver === 'digitalocean').map((s) => s.id);
  if (cloud.length === 0) return;
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
export function greeting(url: string, loaded: LoadedConfig, env: OodEnv, loginLink?: string): string {
  const { config } = loaded;
  const lines = [
    `OoD listening on ${url}`,
    ...(isLoopbackHost(config.listen.host) ? [] : [`  NOTE: listening on ${config.listen.host}, beyond this machine: anyone who reaches it sees the login page`]),
    loginLink ? `  log in: ${loginLink}\n          (works once, for 10 minutes; \`./ood login-link\` makes another)` : `  log in: ${config.web.publicUrl ?? url}/login`,
    `  config: ${loaded.source ?? 'embedded default (no ood.yaml): one local server "world", data in ' + config.dataDir}`,
    env.adminToken
      ? '  API and CLI: authenticate with the OOD_ADMIN_TOKEN you set'
      : `  API and CLI: the admin token is in ${adminTokenPath(config.dataDir)} (mode 0600); \`./ood\` here reads it`,
    '  try: ./ood status · ./ood start <server> --wait · ./ood stop <server> --wait',
  ];
  for (const s of config.servers) lines.push(`  server "${s.id}": ${whereToJoin(s, config.lobby.listen)}`);
  return lines.join('\n');
}

/**
 * Where players connect, as the banner says it: the drivers' own decision (servers/player-address.ts).
 * A DigitalOcean server's droplet does not exist yet at start-up, so without a fixed name the banner
 * says where the address will appear.
 */
export function whereToJoin(s: ServerConfig, sharedLobby?: { host: string; port: number }): string {
  const address = playerAddress(s, { sharedLobby });
  if (s.lobby.mode === 'proxy' && address) return `players join ${formatAddress(address)} (the lobby; joining wakes it)`;
  if (s.driver !== 'digitalocean') return `players join ${formatAddress(address!)} once it runs`;
  const droplet = address ? formatAddress(address) : "the droplet's address, shown once it runs";
  if (s.lobby.mode === 'wake') return `players wake it by joining this machine's port ${s.game.port} (the lobby); once it runs they join ${droplet}`;
  return address ? `players join ${droplet} once it runs` : `players join ${droplet}`;
}
