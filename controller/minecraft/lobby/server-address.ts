/**
 * The host name a handshake names, as hostname routing compares it: Forge/FML clients append a NUL and
 * a marker ("\0FML\0", "\0FML2\0", "\0FORGE"), a name typed with a trailing dot is fully qualified
 * DNS, and names are case-insensitive. "Survival.Example.com.\0FML2\0" → "survival.example.com".
 */
export function routingName(serverAddress: string): string {
  const nul = serverAddress.indexOf('\0');
  const host = (nul === -1 ? serverAddress : serverAddress.slice(0, nul)).trim().toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
