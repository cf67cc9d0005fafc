import { fileURLToPath } from 'node:url';
import { ServerStack } from '../../../infra/stack.js';
import { crashProgram } from './crash-program.js';

// A stand-in for the controller in standin.test.ts: opens stack ood-crash and runs `up`, so the test
// can kill -9 this process mid-update. Settings come from argv: <dataDir> <DO url> <DO token>.
const [dataDir, url, token] = process.argv.slice(2) as [string, string, string];
const stack = await ServerStack.open({
  server: 'crash',
  dataDir,
  env: { DIGITALOCEAN_TOKEN: token, DIGITALOCEAN_API_URL: url },
  pulumiCommand: fileURLToPath(new URL('../bin/pulumi', import.meta.url)),
  log: () => undefined,
  program: crashProgram,
});
process.stdout.write('opened\n');
await stack.up('ood: start by crash test');
