import type { ResourceState } from '../types.js';

/** Default providers are the engine's own: not shown in change counts, like the real display. */
export function isDefaultProvider(urn: string): boolean {
  return /::pulumi:providers:[^:]+::default(_|$)/.test(urn);
}

/** Orders deletions so nothing is deleted while something still depending on it (dependency, parent, provider) remains. */
export function dependentsFirst(resources: ResourceState[]): ResourceState[] {
  const remaining = [...resources];
  const ordered: ResourceState[] = [];
  const needs = (r: ResourceState): string[] => [...(r.dependencies ?? []), ...(r.parent ? [r.parent] : []), ...(r.provider ? [r.provider.split('::').slice(0, -1).join('::')] : [])];
  while (remaining.length > 0) {
    const i = remaining.findIndex((r) => !remaining.some((o) => o !== r && needs(o).includes(r.urn)));
    const [next] = remaining.splice(i >= 0 ? i : remaining.length - 1, 1);
    ordered.push(next as ResourceState);
  }
  return ordered;
}
