/**
 * The visitor's identity in localStorage, keyed by tenant and API URL: visitor token, refresh token and
 * the current chat, so a reload (or another tab) continues the same conversation. An expired token is
 * renewed for the same visitor with the refresh token; tabs share what one of them renewed. Storage is
 * the truth when there is one: a session another tab removed (reset) is gone here too, and a renewal
 * that answers after its visitor was reset or replaced saves nothing.
 */
import { refreshVisitor, type VisitorSession } from '../sdk/index.ts';

export interface StoredSession extends VisitorSession {
  chatId?: string;
}

export interface Session {
  readonly key_: string;
  readonly tenantId_: string;
  /** The stored session (another tab may have changed it), else the one in memory. */
  read_(): StoredSession | undefined;
  /** The session last read or saved by this tab. */
  current_(): StoredSession | undefined;
  save_(session: StoredSession | undefined): void;
  /**
   * The stored token (another tab may have renewed it). Expiry is left to the server's clock: a 401 makes
   * the SDK call renew() once and retry, so a wrong local clock never causes renewals.
   */
  token_(): string;
  /** A fresh token for the same visitor (one renewal at a time; another tab's renewal counts). */
  renew_(): Promise<string>;
}

const storage = (): Storage | undefined => {
  try {
    return window.localStorage;
  } catch {
    return undefined; // blocked (sandboxed frame, privacy settings): the session lives in memory only
  }
};

const noVisitor = () => new Error('no visitor');

export const createSession = (tenantId: string, httpUrl: string): Session => {
  const key = `chat-widget:${tenantId}:${httpUrl}`;
  let memory: StoredSession | undefined;
  /** Storage refused the last save: memory holds the session. */
  let memoryOnly = false;
  let renewing: Promise<string> | undefined;
  /** The token last handed out: when the stored one differs, another tab has renewed it already. */
  let used: string | undefined;

  const read = (): StoredSession | undefined => {
    try {
      const text = storage()?.getItem(key);
      if (text) return (memory = JSON.parse(text) as StoredSession);
      if (text === null && !memoryOnly) memory = undefined; // removed, e.g. by another tab's reset
    } catch {
      // unreadable: keep the one in memory
    }
    return memory;
  };

  const save = (session: StoredSession | undefined): void => {
    // Another visitor (or none): a renewal still running is the old visitor's, not for this one.
    if (session?.visitorId !== memory?.visitorId) renewing = undefined;
    memory = session;
    memoryOnly = false;
    try {
      if (session) storage()?.setItem(key, JSON.stringify(session));
      else storage()?.removeItem(key);
    } catch {
      memoryOnly = true; // quota or blocked storage: memory only
    }
  };

  const renew = async (): Promise<string> => {
    const before = read();
    if (!before) throw noVisitor();
    /** The stored session, if still `before`'s visitor: reset (here or in another tab) ends the renewal. */
    const same = (): StoredSession => {
      const now = read();
      if (!now || now.visitorId !== before.visitorId) throw noVisitor();
      return now;
    };
    if (used !== undefined && before.token !== used) return (used = before.token);
    try {
      const fresh = await refreshVisitor(httpUrl, before.refreshToken);
      save({ ...same(), ...fresh });
      return (used = fresh.token);
    } catch (error) {
      const now = same();
      if (now.token !== before.token) return (used = now.token);
      throw error;
    }
  };

  read();
  return {
    key_: key,
    tenantId_: tenantId,
    read_: read,
    current_: () => memory,
    save_: save,
    token_: () => {
      const session = read();
      if (!session) throw noVisitor();
      return (used = session.token);
    },
    renew_: () => {
      const mine = (renewing ??= renew().finally(() => {
        if (renewing === mine) renewing = undefined;
      }));
      return mine;
    },
  };
};
