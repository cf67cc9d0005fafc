// The plugin's entry point: the Node SDK's provider server on 127.0.0.1, its port on stdout for the
// engine. Started by bin/pulumi-resource-digitalocean, which the engine finds on PATH.
import * as grpc from '@grpc/grpc-js';
import engineGrpc from '@pulumi/pulumi/proto/engine_grpc_pb.js';
import enginePb from '@pulumi/pulumi/proto/engine_pb.js';
import { main } from '@pulumi/pulumi/provider/index.js';
import { doProvider } from './provider.js';
import { setFindingSink } from './resource.js';

// CommonJS modules whose exports node cannot name statically.
const { EngineClient } = engineGrpc;
const { LogRequest, LogSeverity } = enginePb;
const args = process.argv.slice(2);
// The engine passes its own address (host:port) after any flags (--logtostderr, -v=N, --tracing URL).
const engine = args.find((a) => /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(a));
if (engine) {
  const client = new EngineClient(engine, grpc.credentials.createInsecure());
  setFindingSink(
    (message) =>
      new Promise((resolve, reject) => {
        client.log(new LogRequest().setSeverity(LogSeverity.WARNING).setMessage(message), (err) => (err ? reject(err) : resolve()));
      }),
  );
}

await main(doProvider(), args);
