import { ConfigError } from '../errors.js';
import { loginProviders, type LoginProvider } from '../web/auth/providers.js';
import type { OodEnv } from './env.js';
import type { Config } from './schema.js';
import { isLoopbackHost } from '../net/loopback-host.js';

/** What of the environment `ood serve` needs beside the file: secrets the file asks for. */
export type ServeEnv = Pick<OodEnv, 'web' | 'notifications' | 'digitalocean'>;

/**
 * Everything `ood serve` refuses to start with that the config and its secrets decide, in one place:
 * `ood config check` and a config reload ask the same question, so none of them passes what another
 * refuses. Every problem is named at once (fixing one to meet the next is slow). Tools on this machine
 * (the `pulumi` CLI) are checked by `serve` alone: they are not the config's doing.
 */
export function validateForServe(config: Config, env: ServeEnv): { providers: LoginProvider[] } {
  const problems: string[] = [];
  let providers: LoginProvider[] = [];
  try {
    providers = loginProviders(config.web, env.web.oauthSecrets);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.message);
  }
  const configured = Object.values(config.web.providers).flat().filter(Boolean).length;
  if (configured === 0 && !isLoopbackHost(config.listen.host)) {
    problems.push(
      `Listening on ${config.listen.host} would put OoD's pages beyond this machine with no way to log in but a one-time link: configure a login provider (web.providers in ood.yaml), or listen on 127.0.0.1`,
    );
  }
  if (config.notifications.discord && !env.notifications.discordUrl) {
    problems.push("notifications.discord is true but OOD_DISCORD_WEBHOOK_URL is not set (a channel's webhook URL, from its Integrations settings)");
  }
  if (config.notifications.webhook && !env.notifications.webhookUrl) problems.push('notifications.webhook is true but OOD_WEBHOOK_URL is not set');
  const cloud = config.servers.filter((s) => s.driver === 'digitalocean').map((s) => s.id);
  if (cloud.length > 0 && !env.digitalocean.token) {
    const many = cloud.length > 1;
    problems.push(`Server${many ? 's' : ''} ${cloud.join(', ')} use${many ? '' : 's'} driver digitalocean, but DIGITALOCEAN_TOKEN is not set: create a read/write token in the DigitalOcean console (API → Tokens) and export it`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return { providers };
}
