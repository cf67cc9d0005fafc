/** The few DigitalOcean API calls the stand-in's provider makes, against whatever endpoint the stack names. */
export interface DoSettings {
  token: string;
  endpoint: string;
}

export class DoRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'DoRequestError';
  }
}

export class DoApi {
  /** Droplet status polls; short because tests run against a local fake. */
  readonly pollMs = Number(process.env.PULUMI_STANDIN_DO_POLL_MS ?? 200);

  constructor(private readonly settings: DoSettings) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    // The real provider's HTTP client (go-retryablehttp) waits out a 429 as `retry-after` says, a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, body);
      } catch (err) {
        if (!(err instanceof DoRequestError && err.status === 429 && attempt < 4)) throw err;
        await new Promise((r) => setTimeout(r, (err.retryAfter ?? 1) * 1000));
      }
    }
  }

  private async once<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.settings.endpoint.replace(/\/+$/, '')}${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.settings.token}`,
        'content-type': 'application/json',
        // Lets a fake tell the provider's calls from OoD's own client, as the real provider's UA would.
        'user-agent': 'pulumi-digitalocean (pulumi stand-in)',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { id?: string; message?: string };
        detail = `(${parsed.id ?? 'error'}) ${parsed.message ?? ''}`;
      } catch (err) {
        detail = `${detail} [${(err as Error).message}]`;
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new DoRequestError(`${method} ${url}: ${res.status} ${detail}`, res.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** DELETE that treats "already gone" as done, as the real provider does. */
  async remove(path: string): Promise<void> {
    try {
      await this.request('DELETE', path);
    } catch (err) {
      if (err instanceof DoRequestError && err.status === 404) return;
      throw err;
    }
  }
}
