import { createReadStream } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import ssh2, { type ClientChannel } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader (the bundled CLI) offers only its default export.
const { Client } = ssh2;
type Client = InstanceType<typeof Client>;
import { SshError } from '../../errors.js';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** OpenSSH private key of OoD's own key for this server. */
  privateKey: string;
  /** The host key the machine must present, as an OpenSSH public key line (`ssh-ed25519 AAAA… comment`). */
  hostKey: string;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * One SSH connection to one host, kept open between ticks and opened again when it drops: never a
 * connection per probe. Also serves a local TCP port that tunnels to an address seen from the host
 * (RCON on the droplet's loopback), so plain TCP clients can use it.
 */
export class SshHost {
  private client: Promise<Client> | undefined;
  private target: SshTarget | undefined;
  private tunnel: { server: Server; to: string; port: number } | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly timeoutMs = 10_000) {}

  /** Runs `command` (as the target's user, through its login shell) and collects its output. */
  async exec(target: SshTarget, command: string, options: { stdin?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    const client = await this.connect(target);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const name = command.split(' ').slice(0, 2).join(' ');
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(command, (err, channel: ClientChannel) => {
        if (err) {
          this.drop(client);
          reject(new SshError(`Could not run "${name}" on ${target.host}: ${err.message}`, true, { cause: err }));
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        const timer = setTimeout(() => {
          channel.close();
          reject(new SshError(`"${name}" on ${target.host} did not finish within ${Math.round(timeoutMs / 1000)} s`, true));
        }, timeoutMs);
        channel.on('data', (chunk: Buffer) => out.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => errOut.push(chunk));
        channel.on('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? null, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
        });
        channel.end(options.stdin ?? '');
      });
    });
  }

  /**
   * Runs `command` with the file at `inputFile` streamed to its stdin (a world copy of any size, read
   * as it is sent, never held in memory), and collects its (small) output. A read error of the file
   * or a channel error fails the call; the command sees its stdin cut short, never a whole file.
   */
  async execWithInputFile(target: SshTarget, command: string, inputFile: string, options: { timeoutMs: number }): Promise<ExecResult> {
    const client = await this.connect(target);
    const name = command.split(' ').slice(0, 2).join(' ');
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(command, (err, channel: ClientChannel) => {
        if (err) {
          this.drop(client);
          reject(new SshError(`Could not run "${name}" on ${target.host}: ${err.message}`, true, { cause: err }));
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let failed: Error | undefined;
        const timer = setTimeout(() => {
          failed = new SshError(`"${name}" on ${target.host} did not finish within ${Math.round(options.timeoutMs / 1000)} s`, true);
          channel.close();
        }, options.timeoutMs);
        const input = createReadStream(inputFile);
        input.on('error', (readErr) => {
          failed = new SshError(`Could not read ${inputFile} to send it to ${target.host}: ${readErr.message}`, true, { cause: readErr });
          channel.close();
        });
        channel.on('error', (channelErr: Error) => {
          failed ??= new SshError(`"${name}" on ${target.host} failed: ${channelErr.message}`, true, { cause: channelErr });
        });
        channel.on('data', (chunk: Buffer) => out.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => errOut.push(chunk));
        channel.on('close', (code: number | null) => {
          clearTimeout(timer);
          input.destroy();
          if (failed) reject(failed);
          else resolve({ code: code ?? null, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
        });
        input.pipe(channel);
      });
    });
  }

  /**
   * Runs `command` and hands its stdout over as a stream, for output too big to collect (a tar of the
   * world): read it to the end or destroy it (that closes the channel). `done` settles when the command
   * has exited, with its code and the first 4 KB of its stderr.
   */
  async execStream(target: SshTarget, command: string): Promise<{ stdout: Readable; done: Promise<{ code: number | null; stderr: string }> }> {
    const channel = await this.openChannel(target, command);
    let stderr = '';
    channel.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    let code: number | null = null;
    channel.on('exit', (exitCode: number | null) => (code = exitCode));
    const done = new Promise<{ code: number | null; stderr: string }>((settle) => channel.on('close', () => settle({ code, stderr: stderr.slice(0, 4096) })));
    channel.end();
    return { stdout: channel, done };
  }

  /**
   * Runs a long-lived `command` (a follow of the game's log) with its stdin kept open, and hands its
   * stdout and stderr over as streams. `close()` ends stdin, which such a command takes as its cue to
   * stop (`cat >/dev/null; kill …`), and closes the channel if it has not ended 2 s later; a dropped
   * connection ends the command's stdin as well, so a reconnect never leaves a second one running.
   * `done` settles when the channel has closed, with the exit code when there was one.
   */
  async execFollow(target: SshTarget, command: string): Promise<{ stdout: Readable; stderr: Readable; close(): void; done: Promise<{ code: number | null }> }> {
    const channel = await this.openChannel(target, command);
    let code: number | null = null;
    let closed = false;
    channel.on('exit', (exitCode: number | null) => (code = exitCode));
    // A channel error ends it; the follower sees the end and says so.
    channel.on('error', () => channel.close());
    const done = new Promise<{ code: number | null }>((settle) =>
      channel.on('close', () => {
        closed = true;
        settle({ code });
      }),
    );
    const close = () => {
      if (closed) return;
      channel.end();
      setTimeout(() => {
        if (!closed) channel.close();
      }, 2_000).unref();
    };
    return { stdout: channel, stderr: channel.stderr, close, done };
  }

  /** A channel running `command` on the kept connection; a refused exec drops that connection (the next call reconnects). */
  private async openChannel(target: SshTarget, command: string): Promise<ClientChannel> {
    const client = await this.connect(target);
    const name = command.split(' ').slice(0, 2).join(' ');
    return new Promise((resolve, reject) => {
      client.exec(command, (err, channel: ClientChannel) => {
        if (!err) return resolve(channel);
        this.drop(client);
        reject(new SshError(`Could not run "${name}" on ${target.host}: ${err.message}`, true, { cause: err }));
      });
    });
  }

  /** Connects (or checks the kept connection), retrying until `withinMs`: a new droplet boots for a while. */
  async waitReady(target: SshTarget, withinMs: number, everyMs = 1_000): Promise<void> {
    const until = Date.now() + withinMs;
    for (;;) {
      try {
        await this.connect(target);
        return;
      } catch (err) {
        if (err instanceof SshError && !err.retryable) throw err;
        if (Date.now() + everyMs > until) {
          throw new SshError(`${target.host} did not answer SSH on port ${target.port} within ${Math.round(withinMs / 1000)} s (${(err as Error).message}); check the droplet and the firewall rule for port ${target.port}`, true, { cause: err });
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    }
  }

  /**
   * A local port on 127.0.0.1 whose connections are carried to `toHost:toPort` as the host sees it
   * (ssh2 `forwardOut`), kept while the target stays the same.
   */
  async forward(target: SshTarget, toHost: string, toPort: number): Promise<{ host: string; port: number }> {
    const to = `${target.host}>${toHost}:${toPort}`;
    if (this.tunnel?.to === to) return { host: '127.0.0.1', port: this.tunnel.port };
    await this.closeTunnel();
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      this.connect(target).then(
        (client) =>
          client.forwardOut('127.0.0.1', 0, toHost, toPort, (err, channel) => {
            if (err) {
              socket.destroy();
              return;
            }
            socket.pipe(channel).pipe(socket);
            channel.on('error', () => socket.destroy());
            channel.on('close', () => socket.destroy());
          }),
        () => socket.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.tunnel = { server, to, port };
    return { host: '127.0.0.1', port };
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.target = undefined;
    await this.closeTunnel();
    if (client) (await client.catch(() => undefined))?.end();
  }

  private async closeTunnel(): Promise<void> {
    const tunnel = this.tunnel;
    this.tunnel = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (tunnel) await new Promise<void>((resolve) => tunnel.server.close(() => resolve()));
  }

  private connect(target: SshTarget): Promise<Client> {
    const same = this.target && this.target.host === target.host && this.target.port === target.port && this.target.hostKey === target.hostKey;
    if (this.client && same) return this.client;
    if (!same) void this.close();
    this.target = target;
    const expected = hostKeyBlob(target.hostKey);
    const attempt = new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let mismatch: string | undefined;
      client.on('ready', () => resolve(client));
      client.on('error', (err) => {
        this.drop(client);
        if (mismatch) reject(new SshError(mismatch, false, { cause: err }));
        else reject(new SshError(`Could not connect over SSH to ${target.host}:${target.port}: ${err.message}`, true, { cause: err }));
      });
      client.on('close', () => {
        this.drop(client);
        // Closed before it was ready without an 'error' (a host going down mid-handshake): settle, or
        // close() waits for this attempt for ever. Once ready, this reject does nothing.
        reject(new SshError(`The SSH connection to ${target.host}:${target.port} closed before it was ready`, true));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: this.timeoutMs,
        keepaliveInterval: 15_000,
        // The key is known before the first connection (OoD gave it to the droplet): a different one is
        // an attack or the wrong machine, never a prompt.
        hostVerifier: (key: Buffer) => {
          if (key.equals(expected)) return true;
          mismatch = `The SSH host key of ${target.host} is not the one OoD gave this droplet; refusing to connect (another machine at this address, or an attack)`;
          return false;
        },
      });
    });
    this.client = attempt;
    attempt.catch(() => this.drop(attempt));
    return attempt;
  }

  /** Forgets a connection that failed or closed, so the next call opens a new one. */
  private drop(client: Client | Promise<Client>): void {
    if (client instanceof Client) {
      void this.client?.then(
        (current) => {
          if (current === client) this.client = undefined;
        },
        () => undefined,
      );
      return;
    }
    if (this.client === client) this.client = undefined;
  }
}

/** The key blob of an OpenSSH public key line, as ssh2's hostVerifier receives it. */
export function hostKeyBlob(line: string): Buffer {
  const [, base64] = line.trim().split(/\s+/);
  if (!base64) throw new SshError(`Not an OpenSSH public key: ${line.slice(0, 40)}`, false);
  return Buffer.from(base64, 'base64');
}
