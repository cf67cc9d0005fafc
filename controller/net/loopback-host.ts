/**
 * Whether `host` (a name or address as configured or as a socket reports it) reaches only this
 * machine: localhost and its subdomains, 127.0.0.0/8, ::1, and IPv4-mapped loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^(::ffff:)?127\./.test(h);
}
