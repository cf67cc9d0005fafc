import type { ServerView } from '../reconcile/loop.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The JSON of a view, kept while its state and observation objects stay the same: the store hands out
 * the same frozen state until the row changes, and a runner keeps its observation until the next tick,
 * so a list of 200 idle servers is not formatted again for every request.
 */
const memo = new WeakMap<object, WeakMap<object, ServerJson>>();
const NO_OBSERVATION = {};

/** The API's shape of one server; the web UI and `ood status --json` read the same. */
export function serverJson(view: ServerView): ServerJson {
  // A failing run of ticks changes neither state nor observation: not kept (such servers are few).
  if (view.tickError) return formatServer(view);
  const byObservation = memo.get(view.state) ?? new WeakMap<object, ServerJson>();
  memo.set(view.state, byObservation);
  const key = view.observation ?? NO_OBSERVATION;
  let json = byObservation.get(key);
  // stopsAt is a function of the state, so the two keys cover all of a view.
  if (json === undefined) {
    json = formatServer(view);
    byObservation.set(key, json);
  }
  return json;
}

function formatServer(view: ServerView) {
  const { state, observation, stopsAt } = view;
  const tick = view.tickError ?? null;
  const live = state.phase === 'running' && observation?.players;
  return {
    id: state.id,
    phase: state.phase,
    desired: state.desired,
    since: iso(state.phaseSince),
    address: state.phase === 'running' || state.phase === 'booting' ? state.address : null,
    players: live ? { online: observation.players!.online, max: observation.players!.max, names: observation.players!.names } : { online: 0, max: 0, names: [] },
    idle: { emptySince: state.phase === 'running' ? iso(state.emptySince) : null, stopsAt: iso(stopsAt) },
    // The failing checks are newer than any stored error: they are what stands in the way now.
    lastError: tick ? tick.message : state.lastError,
    alert: alertOf(view),
    /** Copies of the world during play (issue 19 item 4): one being taken since, and why the last failed (a warning, not a failure). */
    copy: { since: state.phase === 'running' ? iso(state.progress.copyingSince ?? null) : null, warning: state.progress.copyWarning ?? null },
    /** Checks failing in a row right now (`--wait` ends on one newer than its request), else null. */
    tickError: tick ? { message: tick.message, since: iso(tick.since)!, lastAt: iso(tick.lastAt)!, failures: tick.failures } : null,
  };
}

/**
 * What needs a person now, beyond lastError: checks of the server failing in a row (nothing is
 * started or stopped until one gets through); a failed server whose game still runs (or may: no probe
 * answered) is not watched for idleness, and a failed one whose droplet is still there keeps billing,
 * until someone starts or stops it.
 */
export function alertOf(view: ServerView): string | null {
  const tick = view.tickError;
  const checks = tick ? `OoD could not check on ${view.state.id} (${tick.failures} failure${tick.failures === 1 ? '' : 's'} in a row; it keeps trying, and can neither start nor stop it meanwhile): ${tick.message}` : null;
  const failed = failedAlert(view);
  return checks && failed ? `${checks}. Also: ${failed}` : (checks ?? failed);
}

function failedAlert(view: ServerView): string | null {
  const o = view.observation;
  if (view.state.phase !== 'failed' || !o || o.host !== 'present') return null;
  if (o.power === 'on') return 'failed with the game still running: it is not stopped when idle and its host keeps running until someone starts or stops it';
  if (o.power === 'unknown') return 'failed, and whether the game still runs is unknown (no probe reached it): its host keeps running, and on a cloud is billed, until someone starts or stops it';
  // A droplet bills while it exists, on or off; a local directory costs nothing.
  if (o.machine !== undefined) return `failed with its droplet still there (${o.machine === 'on' ? 'on' : 'off'}): it is billed until someone starts or stops the server`;
  return null;
}

/** `copy` is optional to readers: views made before copies existed (and tests' literals) have none. */
export type ServerJson = Omit<ReturnType<typeof formatServer>, 'copy'> & { copy?: ReturnType<typeof formatServer>['copy'] };
