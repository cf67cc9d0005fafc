import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sshKeyPair } from './keys.js';
import { SshHost } from './ssh-host.js';

describe('SshHost', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  // A droplet going down mid-handshake: sshd sent its banner, then the connection closed. ssh2 emits
  // 'close' without 'error' then; the attempt must still settle, or close() (the destroy step's first
  // act) waits for it for ever, as it did when the console's log follower retried during a stop.
  it('fails a connection that closes before it is ready, and close() does not wait for it', async () => {
    server = createServer((socket) => {
      socket.write('SSH-2.0-OpenSSH_9.2\r\n');
      setTimeout(() => socket.destroy(), 50);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const ssh = new SshHost(5_000);
    const target = { host: '127.0.0.1', port, username: 'root', privateKey: sshKeyPair('ood-t').private, hostKey: sshKeyPair('ood-t-host').public };
    const outcome = await Promise.race([
      ssh.exec(target, 'true').then(
        () => 'ran',
        (err: Error) => err.message,
      ),
      new Promise<string>((r) => setTimeout(() => r('still pending after 2 s'), 2_000)),
    ]);
    expect(outcome).toMatch(/closed before it was ready/);
    const closed = await Promise.race([ssh.close().then(() => 'closed'), new Promise<string>((r) => setTimeout(() => r('close() hangs'), 1_000))]);
    expect(closed).toBe('closed');
  });
});
