import { createRequire } from 'node:module';

/**
 * The SDK's generated message modules and google-protobuf's well-known types are CommonJS that
 * attach exports in ways Node's ESM named-export detection cannot see; load them with require.
 * (The *_grpc_pb.js service modules import fine as ESM.)
 */
const require = createRequire(import.meta.url);

export const resourcePb = require('@pulumi/pulumi/proto/resource_pb.js') as typeof import('@pulumi/pulumi/proto/resource_pb.js');
export const enginePb = require('@pulumi/pulumi/proto/engine_pb.js') as typeof import('@pulumi/pulumi/proto/engine_pb.js');
export const languagePb = require('@pulumi/pulumi/proto/language_pb.js') as typeof import('@pulumi/pulumi/proto/language_pb.js');
export const eventsPb = require('@pulumi/pulumi/proto/events_pb.js') as typeof import('@pulumi/pulumi/proto/events_pb.js');
export const { Empty } = require('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb.js');
export const { Struct } = require('google-protobuf/google/protobuf/struct_pb.js') as typeof import('google-protobuf/google/protobuf/struct_pb.js');
