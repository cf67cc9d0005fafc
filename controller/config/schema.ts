import { z } from 'zod';
import { duration } from './duration.js';
import { hostnameIssues } from './hostname-checks.js';
import { listensOnOwnPort } from './hostname-routes.js';
import { size } from './size.js';

/**
 * The one schema of `ood.yaml`. Every default here is also written in `ood.example.yaml`;
 * `schema.test.ts` parses that file and checks the two agree.
 */
const serverId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'expected a server id of lower-case letters, digits and dashes (at most 31)');

const port = z.number().int().min(1).max(65_535);

const localDriver = z.strictObject({
  /**
   * The command that runs the game in the server's working directory: a string split on spaces, or a
   * list. Unset, it follows `game.kind` (see `game/command.ts`).
   */
  command: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .transform((cmd) => (Array.isArray(cmd) ? cmd : cmd.trim().split(/\s+/)))
    .optional(),
  /** A directory copied into a fresh working directory when there is no archive yet (server.jar, eula.txt…). */
  template: z.string().optional(),
  /** The host name players are told to connect to. */
  publicHost: z.string().min(1).default('localhost'),
});

/** `10.0.0.0/8`, `203.0.113.7/32`, `::/0`: what DigitalOcean's firewall takes as a source. */
const cidr = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-fA-F:]+(\/\d{1,3})?)$/, 'expected an IPv4 or IPv6 address or CIDR block, like 203.0.113.7/32');

const digitalOceanDriver = z.strictObject({
  /** A DigitalOcean region slug (`doctl compute region list`). */
  region: z.string().min(1).default('fra1'),
  /** A droplet size slug; its memory decides how much the game may use. */
  size: z.string().min(1).default('s-1vcpu-2gb'),
  /** A domain whose DNS DigitalOcean serves: the server gets an A record `<id>.<domain>`, short TTL. */
  domain: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'expected a domain like example.com').optional(),
  /**
   * The server's own snapshots to keep; older ones it made are deleted after each stop. Unset: 1 while
   * backups are enabled (the copies on this machine are the fallback a second snapshot was), else 2.
   */
  keepSnapshots: z.number().int().min(1).optional(),
  /**
   * The start of this server's snapshot names, `<prefix>-<installation>-<id>-<unix seconds>`; unset: `ood`.
   * Ownership is proven by the installation and server ids (and the store), never by this prefix alone.
   */
  snapshotPrefix: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/, 'expected lower-case letters, digits and dashes, like ood-survival').optional(),
  /** Where SSH (port 22) may come from: OoD's own address, ideally. RCON is never opened. */
  sshSources: z.array(cidr).min(1).prefault(['0.0.0.0/0', '::/0']),
  /** An SSH key already in the account (id or fingerprint) to put on the droplet besides OoD's own. */
  sshKeyId: z.string().min(1).optional(),
});

const idle = z.strictObject({
  /** Stop this long after the last player left. */
  emptyAfter: duration.prefault('15m'),
  /** Stop this long after the server became ready when nobody joined at all. */
  neverJoined: duration.prefault('10m'),
  /** Chat warnings, this long before an idle stop. */
  warnings: z.array(duration).prefault(['1m', '10s']),
  /** How much longer a keep-alive keeps the server up, counted from when it was pressed. */
  keepAlive: duration.prefault('30m'),
});

/** A Minecraft player name (offline servers allow the same characters). */
const playerName = z.string().regex(/^[A-Za-z0-9_]{1,16}$/, 'expected a Minecraft name: 1 to 16 letters, digits and underscores');

/** A DNS name as players type it: letters, digits, dashes and dots (stored lower-case, no trailing dot). */
const hostname = z
  .string()
  .regex(/^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i, 'expected a host name like survival.example.com')
  .transform((h) => h.toLowerCase().replace(/\.$/, ''));

const lobby = z.strictObject({
  /**
   * `off`: nothing listens while the server sleeps. `wake`: OoD's lobby answers on the game's public
   * port while the game is not running (the server list shows "asleep — join to wake it"; a join by a
   * name that may wake it starts the server). `proxy`: the lobby keeps the public port all the time and
   * forwards to the running game, so the address never changes.
   */
  mode: z.enum(['off', 'wake', 'proxy']).default('off'),
  /** The address the lobby listens on (the game's port is the lobby's port). */
  host: z.string().min(1).default('0.0.0.0'),
  /** Minecraft names that may wake this server, besides the names linked to web accounts that may start it. */
  wakers: z.array(playerName).default([]),
  /** On the local driver in proxy mode, the port the game itself listens on (the lobby holds game.port). */
  gamePort: port.optional(),
  /**
   * In proxy mode on DigitalOcean: the host name or address of this machine that players connect to
   * (the lobby's), shown as the server's address instead of the droplet's.
   */
  publicHost: z.string().min(1).optional(),
  /** A 64×64 PNG shown in the server list (a path relative to the config file). */
  icon: z.string().min(1).optional(),
  /** What the server list shows as the version while the lobby answers. */
  versionName: z.string().min(1).max(40).default('OoD'),
  /** Wake attempts per minute, per address and per name, beyond which a join is told to wait. */
  wakesPerMinute: z.number().int().min(1).default(6),
  /**
   * Proxy mode: send the PROXY protocol v2 header to the game, so it sees each player's own address.
   * Only for a game set up to expect it (Paper's proxy-protocol, Velocity's haproxy-protocol); others
   * refuse every connection.
   */
  proxyProtocol: z.boolean().default(false),
  /** After a wake that ended with nobody joining, the address it came from (IPv4, IPv6 /64) may not wake it for this long, by any name. */
  wakeCooldown: duration.prefault('30m'),
  /**
   * `anyone`: a join by a name that may wake it wakes it from any address. `web-addresses`: only from
   * an address (IPv4, IPv6 /64) where a listed person who may start logged into the web pages within
   * `web.sessionMaxAge`.
   */
  wakeFrom: z.enum(['anyone', 'web-addresses']).default('anyone'),
  /**
   * Host names that reach this server through the shared lobby (top-level `lobby.listen`), matched
   * without regard to case, a trailing dot or a Forge/FML suffix. Two servers may not claim one name.
   */
  hostnames: z.array(hostname).default([]),
  /** This server answers, on the shared lobby, a name that no server claims. At most one server may be the default. */
  default: z.boolean().default(false),
  /**
   * Whether the lobby also listens on this server's own game port (as before the shared lobby). Unset:
   * yes, unless this server is reached through the shared lobby (it has hostnames or is the default).
   */
  ownPort: z.boolean().optional(),
  /** The waiting room (clients 1.20.5+): how long a held join waits for the server before it is let go with the reason. */
  holdFor: duration.prefault('3m'),
  /**
   * Prove each join's account with Mojang's session server (online-mode login) before it may wake or
   * be held. Unset: on when the game itself runs in online mode.
   */
  authenticate: z.boolean().optional(),
});

const deadlines = z.strictObject({
  provisioning: duration.prefault('10m'),
  booting: duration.prefault('5m'),
  /** Time for `save-all` and `stop` over RCON before the host is stopped harder. */
  stopping: duration.prefault('2m'),
  /** Time for the game process to exit before SIGTERM, then SIGKILL after as long again. */
  poweringOff: duration.prefault('1m'),
  snapshotting: duration.prefault('30m'),
  destroying: duration.prefault('5m'),
});

/**
 * Copies of the world taken during play and after each stop's save (issue 19 item 4), into
 * `<dataDir>/servers/<id>/copies/`. `enabled` unset: on for digitalocean (the world otherwise lives
 * only in DigitalOcean's storage), off for local (its stops already archive on this machine).
 */
const backups = z.strictObject({
  /** How often a copy is taken while people play (the first this long after the server is up). */
  every: duration.prefault('30m').refine((ms) => ms >= 10_000, 'expected at least 10s between copies (each one pauses saving while it is taken)'),
  /** Copies to keep; older ones are removed after each new copy (never a chosen one, nor any newer). */
  keep: z.number({ error: 'expected a whole number of copies to keep, like 6' }).int('expected a whole number of copies to keep, like 6').min(1, 'expected at least 1 copy to keep (turn copies off with enabled: false)').default(6),
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
});

const server = z.strictObject({
  id: serverId,
  /** `local`: this machine. `digitalocean`: a droplet per session (see the `digitalocean` block). */
  driver: z.enum(['local', 'digitalocean']).default('local'),
  game: z
    .strictObject({
      /** `bundled`: OoD's own Minecraft server (flying-squid), no download. `vanilla`: server.jar from local.template. */
      kind: z.enum(['bundled', 'vanilla']).default('bundled'),
      port: port.default(25_565),
      rconPort: port.default(25_575),
      /** A running game that answers no status ping this long is treated as crashed: stopped, then booted or archived. */
      hungAfter: duration.prefault('10m'),
    })
    .prefault({}),
  idle: idle.prefault({}),
  deadlines: deadlines.prefault({}),
  /** How many verified archives to keep; older ones are removed after each stop. */
  keepArchives: z.number().int().min(1).default(3),
  local: localDriver.prefault({}),
  digitalocean: digitalOceanDriver.prefault({}),
  /** Wake on join, and one stable address (see `lobby`). */
  lobby: lobby.prefault({}),
  backups: backups.prefault({}),
}).transform((s) => {
  const enabled = s.backups.enabled ?? s.driver === 'digitalocean';
  return { ...s, backups: { every: s.backups.every, keep: s.backups.keep, enabled }, digitalocean: { ...s.digitalocean, keepSnapshots: s.digitalocean.keepSnapshots ?? (enabled ? 1 : 2) } };
});

/** An identity as OoD stores it: `<provider>:<id at that provider>`, like `github:583231`. */
export const identity = z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}:[^\s:][^\s]{0,200}$/, 'expected an identity like github:583231 (provider, a colon, the id at that provider)');

const oauthClient = z.strictObject({
  /** The OAuth application's client id; its secret comes from the environment (see `web.providers`). */
  clientId: z.string().min(1),
});

const web = z.strictObject({
  /**
   * The address people open, when it is not the listen address (behind a proxy or a name): OAuth
   * redirect URIs are `<publicUrl>/connect/<provider>/callback`. An https URL makes cookies `Secure`.
   */
  publicUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL like https://ood.example.com' }).transform((u) => u.replace(/\/+$/, '')).optional(),
  /**
   * Behind reverse proxies that set X-Forwarded-Proto/-For: how many hops to trust (`true` is one),
   * for `Secure` cookies and client addresses. Each proxy appends the address it saw, so the client's
   * is that many entries from the right; anything further left the client wrote itself.
   */
  trustProxy: z
    .union([z.boolean(), z.number().int().min(0).max(10)])
    .default(false)
    .transform((v) => (v === true ? 1 : v === false ? 0 : v)),
  /** How long a login lasts; a visit in its second half renews it for as long again. */
  sessionMaxAge: duration.prefault('7d'),
  /** People who are admins from the start (identities like github:583231); more are added on the admin page. */
  admins: z.array(identity).default([]),
  /**
   * Login providers. Secrets come from the environment: OOD_OAUTH_GITHUB_SECRET, OOD_OAUTH_DISCORD_SECRET,
   * OOD_OAUTH_GOOGLE_SECRET, and OOD_OAUTH_<NAME>_SECRET for an OpenID Connect provider named <name>.
   */
  providers: z
    .strictObject({
      github: oauthClient.optional(),
      discord: oauthClient.optional(),
      google: oauthClient.optional(),
      /** Any OpenID Connect provider by its issuer URL (Keycloak, Authentik, GitLab…). */
      oidc: z
        .array(
          oauthClient.extend({
            /** Names the provider in identities (`<name>:<sub>`) and in its secret's variable. */
            name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'expected a short lower-case name like keycloak'),
            /** Shown on the login button. */
            label: z.string().min(1).max(40).optional(),
            issuer: z.url({ protocol: /^https?$/, error: 'expected the issuer URL, like https://id.example.com/realms/friends' }),
          }),
        )
        .default([]),
    })
    .prefault({}),
});

export const configSchema = z
  .strictObject({
    /** Where OoD keeps its database, archives and working directories (relative to the config file). */
    dataDir: z.string().min(1).default('./.ood'),
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
      })
      .prefault({}),
    log: z
      .strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
      .prefault({}),
    reconcile: z
      .strictObject({
        /** Tick interval while a server is changing phase. */
        fastTick: duration.prefault('200ms'),
        /** Tick interval while a server is steady (archived or failed). */
        slowTick: duration.prefault('5s'),
        /** How often a running server's players are counted (RCON `list`). */
        playerProbe: duration.prefault('1s'),
        /** First retry delay of a failed step; doubles up to `maxBackoff`. */
        backoff: duration.prefault('1s'),
        maxBackoff: duration.prefault('1m'),
        /** Failed attempts of one step before the server goes to `failed`. */
        maxAttempts: z.number().int().min(1).default(8),
      })
      .prefault({}),
    /** The `pulumi` CLI that runs the DigitalOcean driver's stacks. Unset: `pulumi` on PATH. */
    pulumi: z.strictObject({ command: z.string().min(1).optional() }).prefault({}),
    /**
     * Droplets tagged `ood` that no stack owns, and stacks whose droplet is gone, are always reported
     * (`ood status`, the API, the log); with `remove: true` OoD also deletes such droplets once a
     * confirmed snapshot of them exists.
     */
    orphans: z.strictObject({ remove: z.boolean().default(false) }).prefault({}),
    /** The web pages: who logs in, and how. */
    web: web.prefault({}),
    /**
     * Who hears what happens: a Discord webhook and a generic JSON webhook. Their URLs are secrets, from
     * the environment: OOD_DISCORD_WEBHOOK_URL and OOD_WEBHOOK_URL.
     */
    notifications: z
      .strictObject({
        events: z.array(z.enum(['starting', 'up', 'empty', 'archived', 'failed'])).default(['starting', 'up', 'empty', 'archived', 'failed']),
        discord: z.boolean().default(false),
        webhook: z.boolean().default(false),
        /** One delivery attempt's time limit. */
        timeout: duration.prefault('10s'),
        /** Attempts (with backoff from 2 s doubling to 5 min) before a message is given up. */
        maxAttempts: z.number().int().min(1).max(20).default(8),
      })
      .prefault({}),
    /** What OoD may spend on DigitalOcean in a calendar month (UTC). */
    budget: z
      .strictObject({
        /** Starts that would go past this are refused (unless an admin overrides); unset: no cap. */
        monthlyUsd: z.number().positive().optional(),
        /** A warning when the month's cost passes this share of the cap. */
        warnAt: z.number().min(0.1).max(1).default(0.8),
      })
      .prefault({}),
    /**
     * The shared lobby: one Minecraft listener for every server, each reached by the host name players
     * type (servers' `lobby.hostnames`). Unset `listen`: no shared lobby, each lobby on its server's port.
     */
    lobby: z
      .strictObject({
        /** `host:port` the shared lobby listens on, like `0.0.0.0:25565` or `[::]:25565`. */
        listen: z
          .string()
          .regex(/^(\[[0-9a-f:.]+\]|[^:\s]+):\d{1,5}$/i, 'expected host:port, like 0.0.0.0:25565 or [::]:25565')
          .transform((v) => {
            const at = v.lastIndexOf(':');
            return { host: v.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(v.slice(at + 1)) };
          })
          .refine((l) => l.port >= 1 && l.port <= 65_535, 'expected a port from 1 to 65535')
          .optional(),
        /** Mojang's session server (`hasJoined`), for lobbies that authenticate joins; tests point it at a local stand-in. */
        sessionServer: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL like https://sessionserver.mojang.com' }).transform((u) => u.replace(/\/+$/, '')).default('https://sessionserver.mojang.com'),
      })
      .prefault({}),
    /**
     * Discord slash commands and buttons (issue 21), answered over HTTP at `<publicUrl>/discord/interactions`.
     * The bot token (for `ood discord register`) comes from the environment: OOD_DISCORD_BOT_TOKEN. Unset:
     * the endpoint answers 404.
     */
    discord: z
      .strictObject({
        /** The Discord application's id (its General Information page). */
        applicationId: z.string().regex(/^\d{1,20}$/, "expected the application's id, a number like 1234567890123456789"),
        /** The application's public key (hex), which signs every interaction Discord sends. */
        publicKey: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, "expected the application's public key: 64 hex digits from its General Information page")
          .transform((k) => k.toLowerCase()),
        /** `ood discord register` without --guild/--global registers in this guild (a server's commands appear at once there). */
        guildId: z.string().regex(/^\d{1,20}$/, "expected a guild's id, a number like 1234567890123456789").optional(),
      })
      .optional(),
    /** World versions people bring in (issue 19). */
    worlds: z
      .strictObject({
        /** The largest world file `ood upload` and the upload form may send; a larger one is refused (413) as it arrives. */
        maxUpload: size.prefault('2GB'),
      })
      .prefault({}),
    servers: z.array(server).min(1, 'expected at least one server'),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    const ports = new Map<number, string>();
    // Port 0 means "any free port" for the API: it can clash with nothing.
    if (cfg.listen.port !== 0) ports.set(cfg.listen.port, 'listen.port (the API)');
    const prefixes = new Map<string, number>();
    const providerNames = new Set(['github', 'discord', 'google', 'local']);
    cfg.web.providers.oidc.forEach((p, i) => {
      if (providerNames.has(p.name)) ctx.addIssue({ code: 'custom', path: ['web', 'providers', 'oidc', i, 'name'], message: `provider name "${p.name}" is taken; choose another` });
      providerNames.add(p.name);
    });
    const hostnameClaims = new Map<string, string>();
    let defaultServer: string | undefined;
    cfg.servers.forEach((s, i) => {
      hostnameIssues(cfg, s, i, hostnameClaims, defaultServer).forEach((issue) => ctx.addIssue({ code: 'custom', ...issue }));
      if (s.lobby.default) defaultServer ??= s.id;
      const first = seen.get(s.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `duplicate server id "${s.id}" (also servers[${first}])` });
      }
      seen.set(s.id, i);
      if (s.lobby.proxyProtocol && s.lobby.mode !== 'proxy') {
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'lobby', 'proxyProtocol'], message: `lobby.proxyProtocol needs lobby.mode proxy: in ${s.lobby.mode} mode players reach the game without the lobby, and a game that expects the header refuses them` });
      }
      if (s.driver === 'digitalocean') {
        if (s.lobby.proxyProtocol && s.digitalocean.sshSources.some((c) => c === '0.0.0.0/0' || c === '::/0')) {
          ctx.addIssue({ code: 'custom', path: ['servers', i, 'digitalocean', 'sshSources'], message: "with lobby.proxyProtocol the game trusts the header from whoever reaches its port, which behind the lobby is opened to sshSources only: set them to this machine's own address (e.g. 203.0.113.7/32), not everyone" });
        }
        if (s.lobby.mode === 'proxy' && !s.lobby.publicHost) {
          ctx.addIssue({ code: 'custom', path: ['servers', i, 'lobby', 'publicHost'], message: "lobby.mode proxy on DigitalOcean needs lobby.publicHost: this machine's name or address, which players keep using" });
        }
        const prefix = snapshotPrefix(cfg.servers, s);
        const other = prefixes.get(prefix);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['servers', i, 'digitalocean', 'snapshotPrefix'], message: `snapshot prefix "${prefix}" is also servers[${other}]'s: each server needs its own, or one would start from the other's world` });
        }
        prefixes.set(prefix, i);
        // Its game's ports are on its own droplet; its lobby's is on this machine, and the local
        // driver's port check takes any socket of this controller on a local game's port for that
        // server's own lobby, so no other server's lobby may listen there.
        if (listensOnOwnPort(cfg, s)) {
          const owner = ports.get(s.game.port);
          if (owner) ctx.addIssue({ code: 'custom', path: ['servers', i, 'game', 'port'], message: `port ${s.game.port} is already used by ${owner}` });
          ports.set(s.game.port, `servers[${i}].game.port (its lobby)`);
        }
        return;
      }
      if (s.lobby.mode === 'proxy' && s.lobby.gamePort === undefined) {
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'lobby', 'gamePort'], message: 'lobby.mode proxy on the local driver needs lobby.gamePort: the port the game listens on behind the lobby (game.port stays the public address)' });
      }
      const local: [string, number][] = [['port', s.game.port], ['rconPort', s.game.rconPort]];
      if (s.lobby.mode === 'proxy' && s.lobby.gamePort !== undefined) local.push(['lobby.gamePort', s.lobby.gamePort]);
      for (const [key, p] of local) {
        const owner = ports.get(p);
        const path = key.startsWith('lobby.') ? ['servers', i, 'lobby', 'gamePort'] : ['servers', i, 'game', key];
        if (owner) ctx.addIssue({ code: 'custom', path, message: `port ${p} is already used by ${owner}` });
        ports.set(p, `servers[${i}].${key.startsWith('lobby.') ? key : `game.${key}`}`);
      }
    });
    const shared = cfg.lobby.listen;
    if (shared && ports.has(shared.port)) ctx.addIssue({ code: 'custom', path: ['lobby', 'listen'], message: `port ${shared.port} is already used by ${ports.get(shared.port)}; the shared lobby needs a port of its own` });
  });

export type Config = z.infer<typeof configSchema>;
export type ServerConfig = Config['servers'][number];

/** The port the game itself listens on: behind the lobby in proxy mode (local driver), else the public one. */
export function gameListenPort(server: Pick<ServerConfig, 'driver' | 'game' | 'lobby'>): number {
  return server.driver === 'local' && server.lobby.mode === 'proxy' && server.lobby.gamePort !== undefined ? server.lobby.gamePort : server.game.port;
}

/** The game expects a PROXY protocol v2 header on every connection: OoD's own probes send one too. */
export function gameExpectsProxyHeader(server: Pick<ServerConfig, 'lobby'>): boolean {
  return server.lobby.mode === 'proxy' && server.lobby.proxyProtocol;
}

/** The prefix of `server`'s snapshot names (`<prefix>-<unix seconds>`); see `digitalocean.snapshotPrefix`. */
export function snapshotPrefix(servers: readonly Pick<ServerConfig, 'id' | 'driver' | 'digitalocean'>[], server: Pick<ServerConfig, 'id' | 'digitalocean'>): string {
  if (server.digitalocean.snapshotPrefix) return server.digitalocean.snapshotPrefix;
  return servers.filter((s) => s.driver === 'digitalocean').length > 1 ? `ood-${server.id}` : 'ood';
}
