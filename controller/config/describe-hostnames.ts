import { hostnameRoutes } from './hostname-routes.js';
import type { Config } from './schema.js';

/**
 * What `ood config check` says of the shared lobby: where it listens and the routing table, each name →
 * server, then what any other name gets. No lines when `lobby.listen` is unset.
 */
export function describeHostnames(config: Pick<Config, 'lobby' | 'servers'>): string[] {
  const { listen } = config.lobby;
  if (!listen) return [];
  const routes = hostnameRoutes(config);
  const at = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
  const width = Math.max(0, ...[...routes.names.keys()].map((name) => name.length));
  const lines = [`shared lobby on ${at}:`];
  for (const [name, id] of routes.names) lines.push(`  ${name.padEnd(width)}  → ${id}`);
  if (routes.defaultId) lines.push(`  any other name → ${routes.defaultId} (lobby.default)`);
  else if (routes.names.size > 0) lines.push(`  any other name → the list of names above (status and a disconnect; it wakes nothing)`);
  else lines.push('  no server has lobby.hostnames or lobby.default: every name gets an empty list');
  return lines;
}
