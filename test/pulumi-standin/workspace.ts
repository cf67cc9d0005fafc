import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { FileBackend } from './backend.js';
import { CliError } from './errors.js';
import { PassphraseSecrets, readPassphrase } from './secrets.js';
import type { ConfigValue } from './types.js';

interface StackSettings {
  encryptionsalt?: string;
  config?: Record<string, ConfigValue>;
}

/** The project (Pulumi.yaml in the working directory), the stack's settings file beside it, and the backend. */
export class StackContext {
  readonly project: string;
  readonly backend: FileBackend;
  private secretsManager: PassphraseSecrets | undefined;

  constructor(
    readonly cwd: string,
    readonly stack: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.project = readProjectName(cwd);
    this.backend = openBackend(cwd, env);
  }

  private get settingsFile(): string {
    return join(this.cwd, `Pulumi.${this.stack}.yaml`);
  }

  readSettings(): StackSettings {
    if (!existsSync(this.settingsFile)) return {};
    return (parse(readFileSync(this.settingsFile, 'utf8')) as StackSettings | null) ?? {};
  }

  writeSettings(settings: StackSettings): void {
    writeFileSync(this.settingsFile, stringify(settings));
  }

  /** The salt lives in the settings file and in the checkpoint (so a fresh working directory still works). */
  secrets(): PassphraseSecrets {
    if (this.secretsManager) return this.secretsManager;
    const passphrase = readPassphrase(this.env);
    const settings = this.readSettings();
    let salt = settings.encryptionsalt;
    if (!salt && this.backend.exists(this.project, this.stack)) {
      salt = this.backend.readCheckpoint(this.project, this.stack).checkpoint.latest?.secrets_providers.state.salt;
    }
    if (salt) {
      this.secretsManager = PassphraseSecrets.open(passphrase, salt);
      if (!settings.encryptionsalt) this.writeSettings({ ...settings, encryptionsalt: salt });
    } else {
      this.secretsManager = PassphraseSecrets.create(passphrase);
      this.writeSettings({ ...settings, encryptionsalt: this.secretsManager.salt });
    }
    return this.secretsManager;
  }

  requireStack(): void {
    if (!this.backend.exists(this.project, this.stack)) throw new CliError(`no stack named '${this.stack}' found`);
  }

  /** Namespaced keys (`ood:image`); a bare key belongs to the project, as in the real CLI. */
  normalizeKey(key: string): string {
    return key.includes(':') ? key : `${this.project}:${key}`;
  }

  rawConfig(): Record<string, ConfigValue> {
    return { ...(this.readSettings().config ?? {}) };
  }

  setConfig(entries: { key: string; value: string; secret: boolean }[]): void {
    const settings = this.readSettings();
    const config = { ...(settings.config ?? {}) };
    for (const e of entries) {
      config[this.normalizeKey(e.key)] = e.secret ? { secure: this.secrets().encrypt(e.value) } : e.value;
    }
    this.writeSettings({ ...this.readSettings(), config });
  }

  removeConfig(keys: string[]): void {
    const settings = this.readSettings();
    const config = { ...(settings.config ?? {}) };
    for (const k of keys) delete config[this.normalizeKey(k)];
    this.writeSettings({ ...settings, config });
  }

  /** Every config value decrypted, with whether it was secret. */
  config(): Record<string, { value: string; secret: boolean }> {
    const out: Record<string, { value: string; secret: boolean }> = {};
    for (const [k, v] of Object.entries(this.rawConfig())) {
      out[k] = typeof v === 'string' ? { value: v, secret: false } : { value: this.secrets().decrypt(v.secure), secret: true };
    }
    return out;
  }
}

function readProjectName(cwd: string): string {
  for (const ext of ['yaml', 'yml', 'json']) {
    const file = join(cwd, `Pulumi.${ext}`);
    if (!existsSync(file)) continue;
    const doc = parse(readFileSync(file, 'utf8')) as { name?: unknown } | null;
    if (typeof doc?.name === 'string') return doc.name;
    throw new CliError(`${file} has no project name`);
  }
  throw new CliError(`no Pulumi.yaml project file found (searching upwards from ${cwd})`);
}

function openBackend(cwd: string, env: NodeJS.ProcessEnv): FileBackend {
  let url = env.PULUMI_BACKEND_URL;
  if (!url) {
    const file = join(cwd, 'Pulumi.yaml');
    const doc = existsSync(file) ? (parse(readFileSync(file, 'utf8')) as { backend?: { url?: string } } | null) : null;
    url = doc?.backend?.url;
  }
  if (!url) throw new CliError('the pulumi stand-in needs a backend: set PULUMI_BACKEND_URL=file://<dir>');
  return new FileBackend(url);
}

/** `--stack organization/ood/ood-x`, `ood/ood-x` and `ood-x` all name stack `ood-x`. */
export function stackName(value: string | undefined): string {
  if (!value) throw new CliError('no stack selected; pass --stack <name> (the stand-in keeps no current stack)');
  return value.split('/').pop() as string;
}
