/**
 * The visitor's identity in localStorage, keyed by tenant and API URL: visitor token, refresh token and
 * the current chat, so a reload (or another tab) continues the same conversation. An expired token is
 * renewed for the same visitor with the refresh token; tabs share what one of them renewed.
 */
import { refreshVisitor, type VisitorSession } from '../sdk/index.ts';

export interface StoredSession extends VisitorSession {
  chatId?: string;
}

const storage = (): Storage | undefined => {
  try {
    return window.localStorage;
  } catch {
    return undefined; // blocked (sandboxed frame, privacy settings): the session lives in memory only
  }
};

export class Session {
  private memory: StoredSession | undefined;
  private renewing: Promise<string> | undefined;
  /** The token last handed out: when the stored one differs, another tab has renewed it already. */
  private used: string | undefined;

  constructor(
    readonly key: string,
    private readonly httpUrl: string,
  ) {
    this.memory = this.read();
  }

  /** The stored session (another tab may have changed it), else the one in memory. */
  read(): StoredSession | undefined {
    try {
      const text = storage()?.getItem(this.key);
      if (text) return (this.memory = JSON.parse(text) as StoredSession);
    } catch {
      // unreadable: keep the one in memory
    }
    return this.memory;
  }

  get current(): StoredSession | undefined {
    return this.memory;
  }

  save(session: StoredSession | undefined): void {
    this.memory = session;
    try {
      if (session) storage()?.setItem(this.key, JSON.stringify(session));
      else storage()?.removeItem(this.key);
    } catch {
      // quota or blocked storage: memory only
    }
  }

  /**
   * The stored token (another tab may have renewed it). Expiry is left to the server's clock: a 401 makes
   * the SDK call renew() once and retry, so a wrong local clock never causes renewals.
   */
  token(): string {
    const session = this.read();
    if (!session) throw new Error('no visitor');
    return (this.used = session.token);
  }

  /** A fresh token for the same visitor (one renewal at a time; another tab's renewal counts). */
  renew(): Promise<string> {
    this.renewing ??= (async () => {
      const before = this.read();
      if (!before) throw new Error('no visitor');
      if (this.used !== undefined && before.token !== this.used) return (this.used = before.token);
      try {
        const fresh = await refreshVisitor(this.httpUrl, before.refreshToken);
        const after = this.read();
        this.save({ ...(after ?? before), ...fresh });
        return (this.used = fresh.token);
      } catch (error) {
        const now = this.read();
        if (now && now.token !== before.token) return (this.used = now.token);
        throw error;
      }
    })().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }
}
