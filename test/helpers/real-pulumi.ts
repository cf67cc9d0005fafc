import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The real `pulumi` CLI in tests (test/pulumi/README.md) with OoD's `digitalocean` provider plugin
 * (test/pulumi/provider/): where they are, and the environment that keeps them offline and private.
 */
const run = promisify(execFile);

export const BUILD_SCRIPT = fileURLToPath(new URL('../pulumi/build.sh', import.meta.url));
/** Put first on PATH: the engine takes `pulumi-resource-digitalocean` from there. */
export const PROVIDER_BIN_DIR = fileURLToPath(new URL('../pulumi/provider/bin', import.meta.url));

let binDir: Promise<string> | undefined;

/** The bin dir holding `pulumi` (built once per go.mod/go version by build.sh; at once when built). */
export function realPulumiBinDir(): Promise<string> {
  binDir ??= run('bash', [BUILD_SCRIPT], { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 }).then(({ stdout }) => {
    const dir = stdout.trim().split('\n').pop();
    if (!dir) throw new Error(`${BUILD_SCRIPT} printed no bin dir`);
    return dir;
  });
  return binDir;
}

export interface RealPulumiEnvOptions {
  binDir: string;
  /** A private PULUMI_HOME (plugins, credentials, workspace state). */
  pulumiHome: string;
  doToken: string;
  doApiUrl: string;
  passphrase?: string;
  /** Scales every wait of the provider plugin (10 s delays, 3 s polls); 1 = the real provider's pace. */
  providerTimeScale?: number;
}

/**
 * The environment for the real CLI and its plugins: the plugin first on PATH, no update check, no
 * plugin downloads (the CLI must never reach the internet), DigitalOcean at the given URL. Automation
 * runs the CLI with the test process's environment, so tests apply it with `applyEnv`.
 */
export function realPulumiEnv(o: RealPulumiEnvOptions): Record<string, string> {
  return {
    PATH: `${PROVIDER_BIN_DIR}:${o.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    PULUMI_HOME: o.pulumiHome,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    DIGITALOCEAN_TOKEN: o.doToken,
    DIGITALOCEAN_API_URL: o.doApiUrl,
    OOD_DO_PROVIDER_TIME_SCALE: String(o.providerTimeScale ?? 1),
    ...(o.passphrase === undefined ? {} : { PULUMI_CONFIG_PASSPHRASE: o.passphrase }),
  };
}

/** Sets the variables on this process; the returned function puts the old values back. */
export function applyEnv(env: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Runs the built CLI directly (what Automation does not offer, e.g. `stack history --json`). */
export async function runPulumi(binDir: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<{ stdout: string; stderr: string }> {
  return run(`${binDir}/pulumi`, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
}

/**
 * What an OoD controller under test needs to run its stacks on the real CLI: `pulumi.command` for its
 * ood.yaml, and the environment (the CLI's and the plugin's settings, the fake DigitalOcean API, a
 * private PULUMI_HOME under `dir`). The plugin runs its waits at `providerTimeScale` of the real pace.
 */
export async function realPulumiForOod(o: { dir: string; fake: { url: string; token: string }; passphrase: string; providerTimeScale?: number }): Promise<{ command: string; env: Record<string, string> }> {
  const binDir = await realPulumiBinDir();
  return {
    command: `${binDir}/pulumi`,
    env: realPulumiEnv({ binDir, pulumiHome: `${o.dir}/pulumi-home`, doToken: o.fake.token, doApiUrl: o.fake.url, passphrase: o.passphrase, providerTimeScale: o.providerTimeScale ?? 0.1 }),
  };
}
