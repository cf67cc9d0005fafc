import * as grpc from '@grpc/grpc-js';
import * as engineRpc from '@pulumi/pulumi/proto/engine_grpc_pb.js';
import * as resourceRpc from '@pulumi/pulumi/proto/resource_grpc_pb.js';
import { Empty, enginePb, resourcePb, Struct } from './proto.js';
import type { PropertyMap } from '../types.js';
import type { Deployment } from './deployment.js';
import type { Reporter } from './reporter.js';

/** Features the SDK asks about; with only `secrets`, every input arrives resolved (no output values, no resource references). */
const FEATURES = new Set(['secrets']);
const SEVERITY = ['debug', 'info', 'warning', 'error'] as const;

export interface EngineServers {
  monitorAddress: string;
  engineAddress: string;
  close(): void;
}

/** The ResourceMonitor (and Engine, for logs) the program's language host talks to during `up`. */
export async function startEngineServers(deployment: Deployment, report: Reporter): Promise<EngineServers> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 400 * 1024 * 1024 });
  let rootUrn = '';
  const fail = (cb: grpc.sendUnaryData<never>, e: unknown): void => cb({ code: grpc.status.UNKNOWN, details: (e as Error).message });

  const monitor: Partial<resourceRpc.IResourceMonitorServer> = {
    supportsFeature(call, cb) {
      cb(null, new resourcePb.SupportsFeatureResponse().setHassupport(FEATURES.has(call.request.getId())));
    },
    registerResource(call, cb) {
      const r = call.request;
      const propertyDependencies: Record<string, string[]> = {};
      for (const [k, v] of r.getPropertydependenciesMap().entries()) propertyDependencies[k] = v.getUrnsList();
      const createTimeout = parseDuration(r.getCustomtimeouts()?.getCreate() ?? '');
      deployment
        .register({
          type: r.getType(),
          name: r.getName(),
          parent: r.getParent(),
          custom: r.getCustom(),
          inputs: (r.getObject()?.toJavaScript() ?? {}) as PropertyMap,
          dependencies: r.getDependenciesList(),
          propertyDependencies,
          provider: r.getProvider(),
          version: r.getVersion(),
          deleteBeforeReplace: r.getDeletebeforereplace(),
          ignoreChanges: r.getIgnorechangesList(),
          additionalSecretOutputs: r.getAdditionalsecretoutputsList(),
          ...(createTimeout ? { createTimeoutMs: createTimeout } : {}),
        })
        .then((state) => {
          const res = new resourcePb.RegisterResourceResponse()
            .setUrn(state.urn)
            .setId(state.id ?? '')
            .setObject(Struct.fromJavaScript(state.outputs as Record<string, never>))
            .setResult(resourcePb.Result.SUCCESS);
          cb(null, res);
        })
        .catch((e: unknown) => fail(cb, e));
    },
    registerResourceOutputs(call, cb) {
      try {
        deployment.registerOutputs(call.request.getUrn(), (call.request.getOutputs()?.toJavaScript() ?? {}) as PropertyMap);
        cb(null, new Empty());
      } catch (e) {
        fail(cb, e);
      }
    },
    signalAndWaitForShutdown(_call, cb) {
      cb(null, new Empty());
    },
  };
  const engine: Partial<engineRpc.IEngineServer> = {
    log(call, cb) {
      const r = call.request;
      report.diag(SEVERITY[r.getSeverity()] ?? 'info', r.getMessage(), r.getUrn());
      cb(null, new Empty());
    },
    getRootResource(_call, cb) {
      cb(null, new enginePb.GetRootResourceResponse().setUrn(rootUrn));
    },
    setRootResource(call, cb) {
      rootUrn = call.request.getUrn();
      cb(null, new enginePb.SetRootResourceResponse());
    },
  };
  server.addService(resourceRpc.ResourceMonitorService, monitor as grpc.UntypedServiceImplementation);
  server.addService(engineRpc.EngineService, engine as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { monitorAddress: `127.0.0.1:${port}`, engineAddress: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

/** Go durations as in customTimeouts: "10m", "1h30m", "45s". */
function parseDuration(text: string): number | undefined {
  if (!text) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    ms += Number(n) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h']);
  }
  return ms || undefined;
}
