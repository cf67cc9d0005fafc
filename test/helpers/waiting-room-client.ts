import mc from 'minecraft-protocol';
import { reasonText } from './bot.js';

/** How a held join ended: Transfer (the client leaves the lobby for that address), a disconnect with its text, or a dropped connection. */
export type HeldEnd = { transfer: { host: string; port: number } } | { kick: string } | { ended: string };

export interface HeldClient {
  /** Settles once, with whatever came first. */
  readonly end: Promise<HeldEnd>;
  /** Keep Alives the lobby sent (minecraft-protocol answers each one itself, client/keepalive.js). */
  readonly keepAlives: number;
  /** When the client entered the configuration state (Login Success acknowledged), if it did. */
  readonly configurationAt: number | undefined;
  /** When `end` settled. */
  readonly endedAt: number | undefined;
  close(): void;
}

/**
 * A minecraft-protocol client (it parses every packet the lobby sends) joining the lobby at
 * `host:port` with `version`: it logs in, acknowledges, and waits in the configuration state as the
 * vanilla client waits on its "joining" screen. On Transfer it leaves, as the vanilla client does.
 */
export function joinWaitingRoom(port: number, username: string, options: { host?: string; version?: string; timeoutMs?: number } = {}): HeldClient {
  const client = mc.createClient({ host: options.host ?? '127.0.0.1', port, username, version: options.version ?? '1.21.4', auth: 'offline', hideErrors: true });
  let keepAlives = 0;
  let configurationAt: number | undefined;
  let endedAt: number | undefined;
  const end = new Promise<HeldEnd>((resolve) => {
    const settle = (outcome: HeldEnd) => {
      endedAt ??= Date.now();
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      settle({ ended: `nothing within ${options.timeoutMs ?? 240_000} ms` });
      client.end('test timed out');
    }, options.timeoutMs ?? 240_000);
    client.on('state', (state: string) => {
      if (state === 'configuration') configurationAt ??= Date.now();
    });
    client.on('keep_alive', () => void keepAlives++);
    client.on('transfer', (packet: { host: string; port: number }) => {
      settle({ transfer: { host: packet.host, port: packet.port } });
      client.end('transferred');
    });
    // The configuration state's disconnect, and login's (a client the lobby did not hold).
    client.on('disconnect', (packet: { reason: unknown }) => settle({ kick: reasonText(packet.reason) }));
    client.on('kick_disconnect', (packet: { reason: unknown }) => settle({ kick: reasonText(packet.reason) }));
    client.on('end', (why: string) => settle({ ended: `connection ended: ${why}` }));
    client.on('error', (err: Error) => settle({ ended: `error: ${err.message}` }));
  });
  return {
    end,
    get keepAlives() {
      return keepAlives;
    },
    get configurationAt() {
      return configurationAt;
    },
    get endedAt() {
      return endedAt;
    },
    close: () => client.end('test over'),
  };
}
