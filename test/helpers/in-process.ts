import { readEnv } from '../../controller/config/env.js';
import { loadConfig } from '../../controller/config/load.js';
import { serve, type Serving } from '../../controller/cli/serve.js';
import { silentLogger } from '../../controller/log.js';
import { TEST_TOKEN } from './api.js';

/**
 * Runs the controller and its API inside the test process (game processes are still real children).
 * `env` is the controller's environment; it is also set on this process, because the children the
 * controller starts (the Pulumi worker, the CLI, its provider plugin) inherit the process's own, as
 * they would from a user's shell (PATH to the plugin, PULUMI_HOME).
 */
export function serveInProcess(configPath: string, env: Record<string, string> = {}): Promise<Serving> {
  Object.assign(process.env, env);
  const loaded = loadConfig({ configPath, envPath: undefined, cwd: process.cwd() });
  return serve(loaded, readEnv({ ...process.env, OOD_ADMIN_TOKEN: TEST_TOKEN, ...env }), silentLogger);
}
