/**
 * What the fake DigitalOcean API asks of the machines behind its droplets. Without a backend the fake
 * keeps droplets in memory only; with the loopback backend (`test/loopback-droplet/`) every droplet is
 * a real host on this machine (sshd + supervisord on its own 127.0.1.N).
 */
export interface MachineSpec {
  /** The droplet's id, as the API gives it. */
  id: number;
  name: string;
  /** The droplet's public IPv4 address, 127.0.1.N. */
  ipv4: string;
  /** The droplet's user data (cloud-config), or '' when none was given. */
  userData: string;
  /** OpenSSH public keys of the SSH keys the droplet was created with (`ssh_keys`). */
  authorizedKeys: string[];
  /** What the disk starts from: a snapshot this fake took, or a stock distribution image. */
  image: { kind: 'snapshot'; id: string; archive: string } | { kind: 'distribution'; slug: string };
}

export interface MachineBackend {
  /** Makes the machine and powers it on; resolves when it has booted (sshd and supervisord up). */
  create(spec: MachineSpec): Promise<void>;
  /**
   * Powers the machine off. `graceful` (the `shutdown` action) stops its services as an OS shutdown
   * would, letting the game save; a hard `power_off` kills them. Resolves when it is off.
   */
  powerOff(id: number, graceful: boolean): Promise<void>;
  powerOn(id: number): Promise<void>;
  /** Copies the machine's disk into an archive file the fake keeps as the snapshot; returns its size. */
  snapshot(id: number, archive: string): Promise<{ bytes: number }>;
  /** Stops everything of the machine and removes its disk. */
  destroy(id: number): Promise<void>;
  /** Stops every machine (test teardown). */
  close(): Promise<void>;
}
