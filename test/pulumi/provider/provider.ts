import type { Provider } from '@pulumi/pulumi/provider/index.js';
import { DoApi } from './do-api.js';
import { resources } from './do-resources.js';
import { ResourceInitError, type DoResource } from './resource.js';
import { containsSecret, plainMap, secret, type PropertyMap, type PropertyValue } from './values.js';

/**
 * OoD's `digitalocean` provider for the real Pulumi engine in tests, served by the Node SDK's own
 * provider server. That server hands Diff/Update/Read/Delete the old *outputs* (not the old inputs),
 * ignores provider config (Configure) and answers CheckConfig/DiffConfig UNIMPLEMENTED; it accepts
 * secrets, so values arrive with secrets wrapped and outputs keep a secret input's secrecy only when
 * we wrap them again.
 */
export const PROVIDER_VERSION = '4.57.0';

/** Token and endpoint as the real provider defaults them: from the environment only. */
export function apiFromEnv(env: NodeJS.ProcessEnv = process.env): DoApi {
  const token = env.DIGITALOCEAN_TOKEN || env.DIGITALOCEAN_ACCESS_TOKEN;
  if (!token) throw new Error('DigitalOcean token not found: set DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN');
  const scale = Number(env.OOD_DO_PROVIDER_TIME_SCALE ?? 1);
  return new DoApi({
    token,
    endpoint: env.DIGITALOCEAN_API_URL || 'https://api.digitalocean.com',
    timeScale: Number.isFinite(scale) && scale >= 0 ? scale : 1,
  });
}

/** `urn:pulumi:<stack>::<project>::<parent types$>type::<name>` → the resource's own type. */
export function typeOf(urn: string): string {
  const qualified = urn.split('::')[2] ?? '';
  return qualified.split('$').pop() ?? '';
}

function resourceFor(urn: string): DoResource {
  const type = typeOf(urn);
  const r = resources[type];
  if (!r) throw new Error(`${type} is not supported by OoD's test provider (only Droplet, SshKey, Firewall, DnsRecord)`);
  return r;
}

/** Outputs are secret where the value they come from was: a secret input, or a secret in the old state. */
function keepSecrets(outputs: PropertyMap, ...sources: (PropertyMap | undefined)[]): PropertyMap {
  return Object.fromEntries(
    Object.entries(outputs).map(([k, v]): [string, PropertyValue] => [k, sources.some((s) => containsSecret(s?.[k])) ? secret(v) : v]),
  );
}

export function doProvider(api: () => DoApi = apiFromEnv): Provider {
  return {
    version: PROVIDER_VERSION,
    async check(urn, _olds, news) {
      return { inputs: resourceFor(urn).check(news as PropertyMap) };
    },
    async diff(_id, urn, olds, news) {
      const { changes, replaces } = resourceFor(urn).diff(plainMap(olds), plainMap(news));
      return { changes: changes.length > 0, replaces };
    },
    async create(urn, inputs) {
      try {
        const { id, outputs } = await resourceFor(urn).create(api(), plainMap(inputs));
        return { id, outs: keepSecrets(outputs, inputs) };
      } catch (err) {
        if (err instanceof ResourceInitError) {
          throw Object.assign(err, { properties: keepSecrets(err.properties, inputs) });
        }
        throw err;
      }
    },
    async read(id, urn, props) {
      const fresh = await resourceFor(urn).read(api(), id, plainMap(props));
      // An empty id tells the engine the resource is gone (a refresh drops it from the state).
      if (!fresh) return { id: '', props: {} };
      return { id, props: keepSecrets(fresh, props) };
    },
    async update(id, urn, olds, news) {
      const outputs = await resourceFor(urn).update(api(), id, plainMap(olds), plainMap(news));
      return { outs: keepSecrets(outputs, news, olds) };
    },
    async delete(id, urn, props) {
      await resourceFor(urn).delete(api(), id, plainMap(props));
    },
  };
}
