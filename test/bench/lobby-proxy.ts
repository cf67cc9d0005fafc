/**
 * The lobby in proxy mode, alone in its own process, for the proxy bench:
 *
 *   node --import tsx test/bench/lobby-proxy.ts <target port>
 *
 * A LobbyListener on 127.0.0.1 (a free port, printed as `listening <port>`) whose route() always names
 * 127.0.0.1:<target port>, so every connection takes the listener's own forwarding path, as the
 * controller's does while the game runs. Ends on SIGTERM, closing forwarded connections too.
 */
import { LobbyListener } from '../../controller/minecraft/lobby/lobby-listener.js';

const targetPort = Number(process.argv[2]);
if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65_535) throw new Error(`usage: lobby-proxy.ts <target port>, got ${process.argv[2]}`);
const target = { host: '127.0.0.1', port: targetPort };

const listener = new LobbyListener(
  {
    status: () => ({ motd: 'proxy bench', versionName: 'OoD', online: 0, max: 0 }),
    login: () => 'proxy bench: every connection is forwarded',
    route: () => target,
  },
  { host: '127.0.0.1', port: 0 },
);
await listener.listen();
console.log(`listening ${listener.address!.port}`);
process.once('SIGTERM', () => {
  listener.closeAll().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('The proxy bench listener could not close:', err);
      process.exit(1);
    },
  );
});
