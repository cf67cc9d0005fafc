/**
 * Checks an HTTP answer against DigitalOcean's OpenAPI description (test/fixtures/digitalocean/): the
 * status must be one the operation declares (or fall under `default`), the JSON body must match that
 * response's schema, and the headers it declares must be there with the declared type.
 *
 * Stricter than the description alone: every object is closed (`unevaluatedProperties: false`, which
 * sees through allOf/anyOf/oneOf), so a misspelt or invented field fails as a missing one does; and a
 * schema with `properties` but no `type` (a few in the description) must be an object.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type Ajv2019Class from 'ajv/dist/2019.js';
import type { ValidateFunction } from 'ajv/dist/2019.js';
import type addFormatsFn from 'ajv-formats';

// ajv and ajv-formats are CommonJS with `exports.default`; require() gives the classes without the
// default-export guessing that differs between tsc (NodeNext) and vitest.
const require = createRequire(import.meta.url);
const Ajv2019 = (require('ajv/dist/2019.js') as { default: typeof Ajv2019Class.default }).default;
const addFormats = (require('ajv-formats') as { default: typeof addFormatsFn.default }).default;

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  responses: Record<string, { headers?: Record<string, { schema: Json }>; content?: Record<string, { schema: Json }> }>;
}

export const SPEC_PATH = fileURLToPath(new URL('../fixtures/digitalocean/openapi-v2-subset.json', import.meta.url));

export interface Exchange {
  method: string;
  /** The concrete path, e.g. `/v2/droplets/510000001`. */
  path: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export class OpenApiContract {
  private readonly spec: { paths: Record<string, Record<string, Operation>> };
  private readonly ajv: InstanceType<typeof Ajv2019> = new Ajv2019({ strict: true, strictTypes: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(specPath = SPEC_PATH) {
    this.spec = JSON.parse(readFileSync(specPath, 'utf8')) as typeof this.spec;
    addFormats(this.ajv);
    // OpenAPI 3.0 formats JSON Schema does not define; `nullable` is built into Ajv. (strictTypes is off
    // because the description composes objects with allOf without repeating `type` on the parent.)
    this.ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addKeyword({ keyword: 'example' });
  }

  /** All operations in the description, as `METHOD /template` → operationId. */
  operations(): Map<string, string> {
    const ops = new Map<string, string>();
    for (const [template, methods] of Object.entries(this.spec.paths)) {
      for (const [method, op] of Object.entries(methods)) ops.set(`${method.toUpperCase()} ${template}`, op.operationId);
    }
    return ops;
  }

  /** The operation a concrete request hits: same segments, the most literal ones winning. */
  find(method: string, path: string): { template: string; op: Operation } | undefined {
    const segments = path.split('/');
    let best: { template: string; op: Operation; literal: number } | undefined;
    for (const [template, methods] of Object.entries(this.spec.paths)) {
      const op = methods[method.toLowerCase()];
      const parts = template.split('/');
      if (!op || parts.length !== segments.length) continue;
      if (!parts.every((p, i) => p.startsWith('{') || p === segments[i])) continue;
      const literal = parts.filter((p) => !p.startsWith('{')).length;
      if (!best || literal > best.literal) best = { template, op, literal };
    }
    return best;
  }

  /** What is wrong with this answer; an empty list when it follows the description. */
  check(x: Exchange): string[] {
    const found = this.find(x.method, x.path);
    if (!found) return [`${x.method} ${x.path}: no operation in the OpenAPI description`];
    const where = `${x.method} ${x.path} (${found.op.operationId}) → ${x.status}`;
    const response = found.op.responses[String(x.status)] ?? (x.status >= 400 ? found.op.responses.default : undefined);
    if (!response) return [`${where}: status not declared by the operation`];
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = x.headers[name];
      if (value === undefined) problems.push(`${where}: header ${name} missing`);
      else if (header.schema.type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`${where}: header ${name}=${value} is not an integer`);
    }
    const schema = response.content?.['application/json']?.schema;
    if (!schema) {
      if (x.body !== undefined) problems.push(`${where}: a body where the description has none`);
      return problems;
    }
    const validate = this.validator(`${found.template} ${x.method} ${x.status}`, schema);
    if (!validate(x.body)) {
      for (const e of validate.errors ?? []) problems.push(`${where}: body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    }
    return problems;
  }

  private validator(key: string, schema: Json): ValidateFunction {
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const v = this.ajv.compile(closeObjects(structuredClone(schema), false));
    this.compiled.set(key, v);
    return v;
  }
}

/**
 * Adds `type: object` where properties are listed without a type, and `unevaluatedProperties: false` where an object schema stands on its own. Branches of
 * allOf/anyOf/oneOf are left open: their parent closes over what all of them evaluated.
 */
function closeObjects(schema: Json, isBranch: boolean): Json {
  const composed = ['allOf', 'anyOf', 'oneOf'].some((k) => Array.isArray(schema[k]));
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    const branches = schema[k];
    if (Array.isArray(branches)) schema[k] = branches.map((b: Json) => closeObjects(b, true));
  }
  // Some schemas of the description list properties without `type: object`; they mean an object.
  if (schema.properties && schema.type === undefined) schema.type = 'object';
  if (schema.properties && typeof schema.properties === 'object') {
    const props = schema.properties as Record<string, Json>;
    for (const name of Object.keys(props)) props[name] = closeObjects(props[name] as Json, false);
  }
  if (schema.items && typeof schema.items === 'object') schema.items = closeObjects(schema.items as Json, false);
  if (!isBranch && (composed || schema.properties) && schema.additionalProperties === undefined) schema.unevaluatedProperties = false;
  return schema;
}
