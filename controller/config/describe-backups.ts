import { formatDuration } from './duration.js';
import type { ServerConfig } from './schema.js';

/** What `ood config check` says of a server's copies off the cloud (README: "Copies off the cloud (backups)"). */
export function describeBackups(server: Pick<ServerConfig, 'id' | 'driver' | 'backups'>): string {
  const { backups } = server;
  if (!backups.enabled) return `copies: off${server.driver === 'digitalocean' ? ' (the world lives only in DigitalOcean snapshots)' : ''}`;
  const when = server.driver === 'digitalocean' ? 'while people play and after each stop' : 'while people play';
  return `copies: every ${formatDuration(backups.every)} ${when}, keeps ${backups.keep} in servers/${server.id}/copies/ of the data dir`;
}
