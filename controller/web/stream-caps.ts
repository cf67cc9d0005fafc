/** How many live pages may be open: in all, per person, per client address. */
export interface StreamLimits {
  total: number;
  perPerson: number;
  perAddress: number;
}

/** A refused stream: the status and the words its page gets. */
export interface StreamRefusal {
  status: 429 | 503;
  message: string;
}

/**
 * Open streams counted per person and per address, each cap well below the total, so that one
 * person (or one machine with several logins) can never take every place and lock the others out
 * (DESIGN.md, invariant 10).
 */
export class StreamCaps {
  private readonly byPerson = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  constructor(readonly limits: StreamLimits) {}

  /** Why one more stream for `identity` from `address` is refused, or null when it may open. */
  refusal(identity: string, address: string): StreamRefusal | null {
    const { total, perPerson, perAddress } = this.limits;
    if ((this.byPerson.get(identity) ?? 0) >= perPerson) {
      return { status: 429, message: `You already have ${perPerson} live pages open; close one and reload this page to get live updates here.` };
    }
    if ((this.byAddress.get(address) ?? 0) >= perAddress) {
      return { status: 429, message: `${perAddress} live pages are already open from your address; close some and reload this page to get live updates here.` };
    }
    if (this.total >= total) return { status: 503, message: 'Too many live pages are open; this one will try again.' };
    return null;
  }

  add(identity: string, address: string): void {
    this.total++;
    bump(this.byPerson, identity, 1);
    bump(this.byAddress, address, 1);
  }

  remove(identity: string, address: string): void {
    this.total--;
    bump(this.byPerson, identity, -1);
    bump(this.byAddress, address, -1);
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  // Emptied keys go, so the maps hold only people and addresses with a page open.
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
