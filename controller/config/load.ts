import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { EMBEDDED_DATA_DIR, embeddedDefault } from './embedded-default.js';
import { describeIssues } from './issues.js';
import { configSchema, type Config } from './schema.js';

/** A parsed config plus where it came from; `dataDir` is already absolute. */
export interface LoadedConfig {
  config: Config;
  /** The file it was read from, or `null` for the embedded default. */
  source: string | null;
  /** `--host` / `--port` given at start, applied again when the file is read anew (a reload). */
  listen: ListenOverride;
}

/** `--host` / `--port` (or OOD_HOST / OOD_PORT): where the API listens, over what the file says. */
export interface ListenOverride {
  host?: string | undefined;
  port?: number | undefined;
}

/** Parses config data (already read from YAML) and makes paths absolute against `baseDir`. */
export function parseConfig(data: unknown, baseDir: string, source = 'config', listen: ListenOverride = {}): Config {
  const result = configSchema.safeParse(withListen(data ?? {}, listen));
  if (!result.success) throw new ConfigError(`${source} is not valid:\n${describeIssues(result.error.issues, configSchema)}`);
  const config = result.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    dataDir: abs(config.dataDir),
    // A command with a slash is a path (relative to the config file); a bare name is looked up on PATH.
    pulumi: config.pulumi.command?.includes('/') ? { command: abs(config.pulumi.command) } : config.pulumi,
    servers: config.servers.map((s) => ({
      ...s,
      local: { ...s.local, ...(s.local.template ? { template: abs(s.local.template) } : {}) },
      lobby: { ...s.lobby, ...(s.lobby.icon ? { icon: abs(s.lobby.icon) } : {}) },
    })),
  };
}

function withListen(data: unknown, listen: ListenOverride): unknown {
  const given = Object.fromEntries(Object.entries(listen).filter(([, v]) => v !== undefined));
  if (Object.keys(given).length === 0 || typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const record = data as Record<string, unknown>;
  const current = typeof record.listen === 'object' && record.listen !== null ? record.listen : {};
  return { ...record, listen: { ...current, ...given } };
}

/** Reads and parses one YAML config file; never writes it. */
export function readConfigFile(path: string, listen: ListenOverride = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Could not read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${path} is not valid YAML:\n${doc.errors.map((e) => e.message).join('\n')}`);
  }
  return parseConfig(doc.toJS(), dirname(resolve(path)), path, listen);
}

/**
 * The nearest directory at or above `from` that holds `name` (as git finds `.git`), so `ood status`
 * works from a subdirectory of the place OoD runs in. Undefined when none does.
 */
function findUpwards(from: string, name: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Finds the config: `--config`, then `OOD_CONFIG`, then `ood.yaml` in the working directory or the
 * nearest one above it; with none of them, the embedded default (one local server `world`, data under
 * `.ood/` of the nearest directory that has one, else of the working directory). A path that was
 * named but is missing is an error.
 */
export function loadConfig(options: { configPath?: string | undefined; envPath?: string | undefined; cwd: string; listen?: ListenOverride }): LoadedConfig {
  const listen = options.listen ?? {};
  const named = options.configPath ?? options.envPath;
  if (named) {
    const path = resolve(options.cwd, named);
    if (!existsSync(path)) throw new ConfigError(`Config file ${path} does not exist`);
    return { config: readConfigFile(path, listen), source: path, listen };
  }
  const withFile = findUpwards(options.cwd, 'ood.yaml');
  if (withFile) {
    const path = join(withFile, 'ood.yaml');
    return { config: readConfigFile(path, listen), source: path, listen };
  }
  const base = findUpwards(options.cwd, EMBEDDED_DATA_DIR) ?? options.cwd;
  return { config: parseConfig(embeddedDefault(), base, 'embedded default', listen), source: null, listen };
}
