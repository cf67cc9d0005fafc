import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { embeddedDefault } from './embedded-default.js';
import { configSchema, type Config } from './schema.js';

/** A parsed config plus where it came from; `dataDir` is already absolute. */
export interface LoadedConfig {
  config: Config;
  /** The file it was read from, or `null` for the embedded default. */
  source: string | null;
}

/** `servers[0].idle.emptyAfter` from zod's `['servers', 0, 'idle', 'emptyAfter']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${formatPath(issue.path)}: ${message}`;
    })
    .join('\n');
}

/** Parses config data (already read from YAML) and makes paths absolute against `baseDir`. */
export function parseConfig(data: unknown, baseDir: string, source = 'config'): Config {
  const result = configSchema.safeParse(data ?? {});
  if (!result.success) throw new ConfigError(`${source} is not valid:\n${describeIssues(result.error.issues)}`);
  const config = result.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    dataDir: abs(config.dataDir),
    servers: config.servers.map((s) => ({
      ...s,
      local: { ...s.local, ...(s.local.template ? { template: abs(s.local.template) } : {}) },
    })),
  };
}

/** Reads and parses one YAML config file; never writes it. */
export function readConfigFile(path: string): Config {
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
  return parseConfig(doc.toJS(), dirname(resolve(path)), path);
}

/**
 * Finds the config: `--config`, then `OOD_CONFIG`, then `./ood.yaml`; with none of them, the embedded
 * default (one local server `world`, data under `./.ood/`). A path that was named but is missing is an error.
 */
export function loadConfig(options: { configPath?: string | undefined; envPath?: string | undefined; cwd: string }): LoadedConfig {
  const named = options.configPath ?? options.envPath;
  if (named) {
    const path = resolve(options.cwd, named);
    if (!existsSync(path)) throw new ConfigError(`Config file ${path} does not exist`);
    return { config: readConfigFile(path), source: path };
  }
  const implicit = resolve(options.cwd, 'ood.yaml');
  if (existsSync(implicit)) return { config: readConfigFile(implicit), source: implicit };
  return { config: parseConfig(embeddedDefault(), options.cwd, 'embedded default'), source: null };
}
