import type { FollowOptions, LogChunk } from '../../logs/types.js';
import type { SshHost, SshTarget } from './ssh-host.js';

/** Follows supervisord's log of the game on the droplet over the SSH connection OoD already holds. */
 
export async function* followRemoteLog(ssh: SshHost, target: () => SshTarget, options: FollowOptions): AsyncIterable<LogChunk> {
  void ssh;
  void target;
  void options;
  throw new Error('following the droplet log is not built yet');
}
