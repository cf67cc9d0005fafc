/**
 * A shared lobby with hostname routing on, alone in its own process, for the routing bench:
 *
 *   node --import tsx test/bench/lobby-routing-listener.ts <name,name,…>
 *
 * (the bench runs it bundled, see children.ts' bundled()).
 *
 * A LobbyListener on 127.0.0.1 (a free port, printed as `listening <port>`) whose `resolve` maps each
 * given name to a server's handlers and anything else to a "no such server" answer, as the
 * controller's shared lobby does. Each server's status is rebuilt once a second, as LobbyService keeps
 * it (so "ready in about 70 s" still counts down), and its login turns the player away. Ends on SIGTERM.
 */
import { LobbyListener } from '../../controller/minecraft/lobby/lobby-listener.js';
import type { LobbyHandlers, LobbyStatus } from '../../controller/minecraft/lobby/types.js';

const names = (process.argv[2] ?? '').split(',').filter(Boolean);
if (names.length === 0) throw new Error('usage: lobby-routing-listener.ts <name,name,…>');

/** A server's handlers whose status object is kept one second, like LobbyService's. */
function server(id: string): LobbyHandlers {
  let kept: { at: number; status: LobbyStatus } | undefined;
  return {
    status: () => {
      const now = Date.now();
      if (kept && now - kept.at < 1_000) return kept.status;
      kept = { at: now, status: { motd: `${id}: asleep — join to wake it`, versionName: 'OoD', online: 0, max: 0 } };
      return kept.status;
    },
    login: ({ name }) => `${name}: routing bench, ${id} stays asleep`,
  };
}

const byName = new Map(names.map((name) => [name, server(name.split('.')[0]!)]));
const unknown: LobbyHandlers = {
  status: () => ({ motd: `No server by that name; join one of: ${names.join(', ')}`, versionName: 'OoD', online: 0, max: 0 }),
  login: () => `No server by that name; join one of: ${names.join(', ')}`,
};
const listener = new LobbyListener(unknown, { host: '127.0.0.1', port: 0, resolve: (name) => byName.get(name) ?? unknown });
await listener.listen();
console.log(`listening ${listener.address!.port}`);
process.once('SIGTERM', () => {
  listener.closeAll().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('The routing bench listener could not close:', err);
      process.exit(1);
    },
  );
});
