import { ConfigError } from '../errors.js';

/**
 * The environment, read once at start and passed down; nothing else reads `process.env`.
 * Secrets come only from here, never from `ood.yaml`.
 */
export interface OodEnv {
  configPath: string | undefined;
  adminToken: string | undefined;
  /** Where CLI commands find a running controller (default: the config's listen address). */
  url: string | undefined;
  /** OOD_HOST / OOD_PORT: where `ood serve` listens, over the config file. */
  listen: { host: string | undefined; port: number | undefined };
  /**
   * Failpoints for crash tests (`OOD_FAILPOINTS="snapshot:after=3000,boot:before=2000"`): the loop pauses
   * that long before a step runs, or after it ran but before its outcome is recorded, so a test can
   * kill -9 the controller inside exactly that window. Empty in normal use.
   */
  failpoints: Failpoints;
  /** What game processes inherit: the environment minus OoD's own variables and cloud credentials. */
  childEnv: NodeJS.ProcessEnv;
  /** The DigitalOcean driver's credentials and API (DIGITALOCEAN_TOKEN, DIGITALOCEAN_API_URL). */
  digitalocean: { token: string | undefined; apiUrl: string };
  /**
   * What the `pulumi` CLI is given: PULUMI_* variables (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE,
   * PULUMI_ACCESS_TOKEN…), plus PATH and HOME, which it needs to find its plugins.
   */
  pulumiEnv: Record<string, string>;
  /**
   * The web's secrets: OOD_SESSION_KEYS (comma-separated, newest first; unset: generated once into the
   * data dir) and each login provider's client secret, OOD_OAUTH_<PROVIDER>_SECRET, by provider name.
   */
  web: { sessionKeys: string[] | undefined; oauthSecrets: Record<string, string> };
  /** Webhook URLs (they carry tokens): OOD_DISCORD_WEBHOOK_URL, OOD_WEBHOOK_URL. */
  notifications: { discordUrl: string | undefined; webhookUrl: string | undefined };
  /**
   * Discord's HTTP API for interactions (issue 21): OOD_DISCORD_BOT_TOKEN (`ood discord register` only) and
   * OOD_DISCORD_API_URL (default https://discord.com/api/v10; tests point it at a local receiver).
   */
  discord: { botToken: string | undefined; apiUrl: string };
}

export const DISCORD_API = 'https://discord.com/api/v10';

export const DIGITALOCEAN_API = 'https://api.digitalocean.com';

export type Failpoints = ReadonlyMap<string, { before?: number; after?: number }>;

export function parseFailpoints(text: string | undefined): Failpoints {
  const out = new Map<string, { before?: number; after?: number }>();
  for (const item of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([a-z_]+):(before|after)=(\d+)$/.exec(item);
    if (!match) throw new Error(`OOD_FAILPOINTS: expected "step:before=ms" or "step:after=ms", got "${item}"`);
    out.set(match[1]!, { ...out.get(match[1]!), [match[2]!]: Number(match[3]) });
  }
  return out;
}

/** A TCP port from text (0 = any free port), or undefined when unset. */
export function parsePort(text: string | undefined, what: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new ConfigError(`${what}: expected a port number from 0 to 65535, got "${text}"`);
  return port;
}

const PRIVATE = /^(OOD_|DIGITALOCEAN_|PULUMI_)/;

export function readEnv(env: NodeJS.ProcessEnv): OodEnv {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) if (!PRIVATE.test(key)) childEnv[key] = value;
  return {
    configPath: env.OOD_CONFIG || undefined,
    adminToken: env.OOD_ADMIN_TOKEN || undefined,
    url: env.OOD_URL || undefined,
    listen: { host: env.OOD_HOST || undefined, port: parsePort(env.OOD_PORT, 'OOD_PORT') },
    failpoints: parseFailpoints(env.OOD_FAILPOINTS),
    childEnv,
    digitalocean: { token: env.DIGITALOCEAN_TOKEN || undefined, apiUrl: (env.DIGITALOCEAN_API_URL || DIGITALOCEAN_API).replace(/\/+$/, '') },
    web: {
      sessionKeys: env.OOD_SESSION_KEYS ? env.OOD_SESSION_KEYS.split(',').map((k) => k.trim()).filter(Boolean) : undefined,
      oauthSecrets: Object.fromEntries(
        Object.entries(env)
          .map(([key, value]) => [/^OOD_OAUTH_([A-Z0-9_]+)_SECRET$/.exec(key)?.[1], value] as const)
          .filter((e): e is [string, string] => e[0] !== undefined && !!e[1])
          .map(([name, value]) => [name.toLowerCase().replace(/_/g, '-'), value]),
      ),
    },
    notifications: { discordUrl: env.OOD_DISCORD_WEBHOOK_URL || undefined, webhookUrl: env.OOD_WEBHOOK_URL || undefined },
    discord: { botToken: env.OOD_DISCORD_BOT_TOKEN || undefined, apiUrl: (env.OOD_DISCORD_API_URL || DISCORD_API).replace(/\/+$/, '') },
    pulumiEnv: Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && (/^PULUMI_/.test(e[0]) || e[0] === 'PATH' || e[0] === 'HOME')),
    ),
  };
}
