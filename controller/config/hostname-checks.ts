import type { ServerConfig } from './schema.js';

type Checked = Pick<ServerConfig, 'id' | 'lobby'>;

export interface HostnameIssue {
  path: (string | number)[];
  message: string;
}

const ADD_LISTEN = 'add `lobby: { listen: 0.0.0.0:25565 }` at the top of ood.yaml (the one address players use for every server)';

/**
 * What the schema refuses about one server's place on the shared lobby, given the names claimed and the
 * default chosen by the servers before it (`claims` is filled in here): a name claimed twice, a second
 * default, names or a default with no shared lobby to answer them, or with the server's lobby off, and
 * a lobby kept off its own port with no name to reach it by.
 */
export function hostnameIssues(
  config: { lobby: { listen?: unknown } },
  server: Checked,
  index: number,
  claims: Map<string, string>,
  defaultServer: string | undefined,
): HostnameIssue[] {
  const issues: HostnameIssue[] = [];
  const { lobby } = server;
  const at = (key: string, ...more: (string | number)[]) => ['servers', index, 'lobby', key, ...more];
  lobby.hostnames.forEach((name, j) => {
    const owner = claims.get(name);
    if (owner === undefined) claims.set(name, server.id);
    else issues.push({ path: at('hostnames', j), message: `host name ${name} is claimed by both ${owner === server.id ? `${owner} (twice)` : `${owner} and ${server.id}`}: each name reaches one server; remove it from one of them` });
  });
  if (lobby.default && defaultServer !== undefined) {
    issues.push({ path: at('default'), message: `${defaultServer} and ${server.id} are both lobby.default: at most one server answers the names no server claims` });
  }
  const uses = lobby.hostnames.length > 0 ? 'hostnames' : lobby.default ? 'default' : undefined;
  if (uses && config.lobby.listen === undefined) {
    issues.push({ path: at(uses), message: `lobby.${uses} needs the shared lobby, which is not configured: ${ADD_LISTEN}` });
  }
  if (uses && lobby.mode === 'off') {
    issues.push({ path: at(uses), message: `lobby.${uses} needs lobby.mode wake or proxy: with the lobby off, nothing answers ${server.id}'s names on the shared lobby` });
  }
  if (lobby.ownPort === false && lobby.mode !== 'off' && !uses) {
    issues.push({ path: at('ownPort'), message: `lobby.ownPort false leaves ${server.id}'s lobby nowhere to answer: give it lobby.hostnames (or lobby.default) to reach it through the shared lobby, or set lobby.mode off` });
  }
  return issues;
}
