import { serverProgram, type ServerSpec } from '../../infra/program.js';
import { ServerStack } from '../../infra/stack.js';

/**
 * A controller's stack worker reduced to one `up`, for tests that kill it with -9 mid-update:
 * `node --import tsx stack-up-child.ts <dataDir> <pulumi command> <ServerSpec as JSON> <message>`.
 * DigitalOcean's token and URL come from the environment, as the controller passes them on.
 */
const [dataDir, pulumiCommand, spec, message] = process.argv.slice(2) as [string, string, string, string];
const parsed = JSON.parse(spec) as ServerSpec;
const stack = await ServerStack.open({
  server: parsed.server,
  program: serverProgram(parsed),
  dataDir,
  env: { DIGITALOCEAN_TOKEN: process.env.DIGITALOCEAN_TOKEN, DIGITALOCEAN_API_URL: process.env.DIGITALOCEAN_API_URL },
  pulumiCommand,
  log: () => undefined,
});
process.stdout.write('opened\n');
await stack.up(message);
process.stdout.write('finished\n');
