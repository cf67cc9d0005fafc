import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Client, utils, type ConnectConfig } from 'ssh2';

/**
 * A bare ssh2 client for the loopback droplet tests, written apart from OoD's driver so the droplets
 * are checked against SSH itself, not against the code they will test.
 */
export interface Connected {
  client: Client;
  exec(command: string, stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** A port on 127.0.0.1 whose connections `forwardOut` to `host:port` as the droplet sees it. */
  forward(host: string, port: number): Promise<number>;
  end(): Promise<void>;
}

/** Connects as root, accepting only `hostPublicKey` (an OpenSSH public key line) as the host's key. */
export async function connectSsh(host: string, auth: Pick<ConnectConfig, 'privateKey' | 'password'>, hostPublicKey: string): Promise<Connected> {
  const parsed = utils.parseKey(hostPublicKey);
  if (parsed instanceof Error) throw parsed;
  const expected = (Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH();
  const client = new Client();
  let failed: (err: Error) => void = () => undefined;
  // Kept for the connection's life: a droplet powered off under an open session resets it.
  client.on('error', (err) => failed(err));
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    failed = reject;
    client.connect({ host, port: 22, username: 'root', ...auth, readyTimeout: 10_000, hostVerifier: (key: Buffer) => key.equals(expected) });
  });
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  return {
    client,
    exec: (command, stdin) =>
      new Promise((resolve, reject) => {
        client.exec(command, (err, channel) => {
          if (err) return reject(err);
          let stdout = '';
          let stderr = '';
          const timer = setTimeout(() => reject(new Error(`"${command}" on ${host} did not finish within 90 s`)), 90_000);
          channel.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          channel.on('close', (code: number | null) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
          });
          channel.end(stdin ?? '');
        });
      }),
    forward: async (toHost, toPort) => {
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        client.forwardOut('127.0.0.1', 0, toHost, toPort, (err, channel) => {
          if (err) return socket.destroy();
          channel.on('error', () => socket.destroy());
          socket.pipe(channel).pipe(socket);
        });
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    },
    end: async () => {
      for (const socket of sockets) socket.destroy();
      for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
      client.end();
    },
  };
}
