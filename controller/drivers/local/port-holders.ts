import { readdir, readFile, readlink } from 'node:fs/promises';

/** A process with a TCP socket on a port, as /proc shows it. */
export interface PortHolder {
  pid: number;
  /** /proc/<pid>/comm: the program's name, as `ps` shows it. */
  name: string;
  /** LISTEN, ESTABLISHED, … (an outgoing connection's local port blocks a bind too). */
  state: string;
}

/** /proc/net/tcp's state codes (include/net/tcp_states.h). */
const STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};
/** A process that ended while we looked, or is another user's: its descriptors are not ours to read. */
const GONE = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'ENOTDIR']);

/**
 * The sockets with local port `port` in this network namespace (IPv4 and IPv6), by inode, from
 * /proc/net/tcp and tcp6. A TIME_WAIT socket belongs to no process (inode 0) and never blocks a
 * listener that sets SO_REUSEADDR, as Node and Java do, so it is left out.
 */
export async function socketsOnPort(port: number, proc = '/proc'): Promise<Map<string, string>> {
  const inodes = new Map<string, string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = await readFile(`${proc}/net/${table}`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // no IPv6 on this kernel
      throw err;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local rem st queues tr retrnsmt uid timeout inode
      const [, local, , state, , , , , , inode] = fields;
      if (!local || !state || !inode || inode === '0') continue;
      if (local.slice(local.lastIndexOf(':') + 1) !== hexPort) continue;
      inodes.set(inode, STATES[state] ?? state);
    }
  }
  return inodes;
}

/**
 * Who holds a TCP socket on `port`: each socket's inode found among the open descriptors of every
 * process OoD may read (/proc/<pid>/fd links read `socket:[<inode>]`). A socket of another user's
 * process, or of another network namespace's, is not found; the caller says so.
 */
export async function portHolders(port: number, proc = '/proc'): Promise<PortHolder[]> {
  const sockets = await socketsOnPort(port, proc);
  if (sockets.size === 0) return [];
  const holders: PortHolder[] = [];
  const pids = (await readdir(proc)).filter((entry) => /^\d+$/.test(entry));
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`${proc}/${pid}/fd`);
    } catch (err) {
      if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) continue;
      throw err;
    }
    for (const fd of fds) {
      const link = await readlink(`${proc}/${pid}/fd/${fd}`).catch((err: NodeJS.ErrnoException) => {
        if (GONE.has(err.code ?? '')) return '';
        throw err;
      });
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      const state = inode === undefined ? undefined : sockets.get(inode);
      if (state === undefined) continue;
      const name = await readFile(`${proc}/${pid}/comm`, 'utf8').then(
        (comm) => comm.trim(),
        (err: NodeJS.ErrnoException) => {
          if (GONE.has(err.code ?? '')) return 'a process that has ended';
          throw err;
        },
      );
      if (!holders.some((h) => h.pid === Number(pid))) holders.push({ pid: Number(pid), name, state });
    }
  }
  return holders;
}
