// The plugin's entry point: the Node SDK's provider server on 127.0.0.1, its port on stdout for the
// engine. Started by bin/pulumi-resource-digitalocean, which the engine finds on PATH.
import { main } from '@pulumi/pulumi/provider/index.js';
import { doProvider } from './provider.js';

await main(doProvider(), process.argv.slice(2));
