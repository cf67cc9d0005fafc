import * as grpc from '@grpc/grpc-js';
import * as languageRpc from '@pulumi/pulumi/proto/language_grpc_pb.js';
import { languagePb } from './proto.js';

export interface RunArgs {
  client: string;
  project: string;
  stack: string;
  pwd: string;
  monitorAddress: string;
  engineAddress: string;
  config: Record<string, { value: string; secret: boolean }>;
}

export interface ProgramRun {
  /** Resolves with the program's error text, or '' when it finished cleanly. */
  result: Promise<string>;
  cancel(): void;
}

/**
 * Asks the inline program's language host (Automation's LanguageServer, at `--client`) to run the
 * program against our monitor. If the process that hosts it dies, the call fails and that is the
 * program's error too: the update then ends as failed, with what was already done recorded.
 */
export function runProgram(args: RunArgs): ProgramRun {
  const client = new languageRpc.LanguageRuntimeClient(args.client, grpc.credentials.createInsecure(), {
    // Notice a host that vanished without closing the connection.
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const req = new languagePb.RunRequest()
    .setProject(args.project)
    .setStack(args.stack)
    .setPwd(args.pwd)
    .setProgram('.')
    .setArgsList([args.engineAddress])
    .setDryrun(false)
    .setParallel(48)
    .setMonitorAddress(args.monitorAddress)
    .setQuerymode(false)
    .setOrganization('organization')
    .setConfigsecretkeysList(Object.entries(args.config).filter(([, v]) => v.secret).map(([k]) => k));
  for (const [k, v] of Object.entries(args.config)) req.getConfigMap().set(k, v.value);
  let call: grpc.ClientUnaryCall | undefined;
  const result = new Promise<string>((resolve) => {
    call = client.run(req, (err, res) => {
      client.close();
      if (err) resolve(err.details || err.message);
      else resolve(res.getError());
    });
  });
  return { result, cancel: () => call?.cancel() };
}
