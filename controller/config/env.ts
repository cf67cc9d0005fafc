/**
 * The environment, read once at start and passed down; nothing else reads `process.env`.
 * Secrets come only from here, never from `ood.yaml`.
 */
export interface OodEnv {
  configPath: string | undefined;
  adminToken: string | undefined;
  /** Where CLI commands find a running controller (default: the config's listen address). */
  url: string | undefined;
  /** What game processes inherit: the environment minus OoD's own variables and cloud credentials. */
  childEnv: NodeJS.ProcessEnv;
}

const PRIVATE = /^(OOD_|DIGITALOCEAN_|PULUMI_)/;

export function readEnv(env: NodeJS.ProcessEnv): OodEnv {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) if (!PRIVATE.test(key)) childEnv[key] = value;
  return {
    configPath: env.OOD_CONFIG || undefined,
    adminToken: env.OOD_ADMIN_TOKEN || undefined,
    url: env.OOD_URL || undefined,
    childEnv,
  };
}
