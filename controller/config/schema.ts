import { z } from 'zod';
import { duration } from './duration.js';

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

const server = z.strictObject({
  id: serverId,
  driver: z.literal('local').default('local'),
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
    servers: z.array(server).min(1, 'expected at least one server'),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    const ports = new Map<number, string>();
    // Port 0 means "any free port" for the API: it can clash with nothing.
    if (cfg.listen.port !== 0) ports.set(cfg.listen.port, 'listen.port (the API)');
    cfg.servers.forEach((s, i) => {
      const first = seen.get(s.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `duplicate server id "${s.id}" (also servers[${first}])` });
      }
      seen.set(s.id, i);
      for (const [key, p] of [['port', s.game.port], ['rconPort', s.game.rconPort]] as const) {
        const owner = ports.get(p);
        if (owner) ctx.addIssue({ code: 'custom', path: ['servers', i, 'game', key], message: `port ${p} is already used by ${owner}` });
        ports.set(p, `servers[${i}].game.${key}`);
      }
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ServerConfig = Config['servers'][number];
