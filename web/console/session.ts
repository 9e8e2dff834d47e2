/**
 * Who the agent is. In the local cloud (config.json `devTokens: true`) the sign-in form asks for an
 * agent id and mints an agent token of the configured tenant (`demo`) through POST /v1/dev/tokens.
 * Deployed, the token comes from the host's identity provider, in one of three ways:
 *
 * - a `#token=<jwt>` fragment on the console URL (removed from the address bar at once);
 * - a `postMessage({ type: 'chat-console:token', token })` from the window that opened or embeds the
 *   console, from its own origin or one listed in config.json `identityOrigins`; the console announces
 *   itself with `{ type: 'chat-console:ready' }` and asks `{ type: 'chat-console:token-request' }` when
 *   the token expires;
 * - pasted into the form's token field.
 *
 * The token is kept in sessionStorage (this tab only), so a reload stays signed in.
 */
import { devToken, type RuntimeConfig } from '../sdk/index.ts';
import { byId, errorText } from './dom.ts';

export interface Session {
  readonly token: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly name?: string;
  readonly dev: boolean;
}

interface Claims {
  sub?: unknown;
  tenant?: unknown;
  role?: unknown;
  name?: unknown;
  exp?: unknown;
}

const STORAGE_KEY = 'chat-console:session';
const AGENT_ID_KEY = 'chat-console:agent-id';
const TOKEN_MESSAGE = 'chat-console:token';
const RENEW_WAIT_MS = 10_000;

/** The claims of a JWT (not verified: the API does that; this only names the signed-in agent). */
export const decodeClaims = (token: string): Claims => {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('that is not a token (a JWT has three parts)');
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) =>
    c.charCodeAt(0),
  );
  const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (!claims || typeof claims !== 'object') throw new Error('the token carries no claims');
  return claims as Claims;
};

export const sessionFromToken = (token: string, dev = false): Session => {
  const claims = decodeClaims(token);
  if (typeof claims.sub !== 'string' || typeof claims.tenant !== 'string')
    throw new Error('the token names no user (sub) or tenant');
  if (claims.role !== 'agent')
    throw new Error(`the console is for agents; this token's role is ${String(claims.role)}`);
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now())
    throw new Error('the token has expired');
  return {
    token,
    userId: claims.sub,
    tenantId: claims.tenant,
    ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
    dev,
  };
};

const identityOrigins = (config: RuntimeConfig): string[] => {
  const listed = (config as { identityOrigins?: unknown }).identityOrigins;
  const origins = Array.isArray(listed) ? listed.filter((o): o is string => typeof o === 'string') : [];
  return [location.origin, ...origins];
};

/** Windows that may hand over a token: the opener and the embedding parent (never this window). */
const handOverWindows = (): Window[] =>
  [window.opener as Window | null, window.parent === window ? null : window.parent].filter(
    (w): w is Window => w !== null,
  );

/** Tokens the host posts; resolves `listener` for each one from an allowed window and origin. */
const onTokenMessage = (config: RuntimeConfig, listener: (token: string) => void): (() => void) => {
  const origins = identityOrigins(config);
  const handle = (event: MessageEvent) => {
    const data = event.data as { type?: unknown; token?: unknown } | null;
    if (!data || data.type !== TOKEN_MESSAGE || typeof data.token !== 'string') return;
    if (!origins.includes(event.origin)) return;
    if (!handOverWindows().some((w) => w === event.source)) return;
    listener(data.token);
  };
  window.addEventListener('message', handle);
  return () => window.removeEventListener('message', handle);
};

const post = (message: Record<string, string>) => {
  for (const target of handOverWindows()) target.postMessage(message, '*'); // carries no secret
};

const takeFragmentToken = (): string | undefined => {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (!token) return undefined;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return token;
};

const remember = (session: Session) => sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
export const forgetSession = (): void => sessionStorage.removeItem(STORAGE_KEY);

const remembered = (): Session | undefined => {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const saved = JSON.parse(raw) as Session;
    return sessionFromToken(saved.token, saved.dev); // checks expiry again
  } catch {
    return undefined;
  }
};

const mintDevSession = async (config: RuntimeConfig, userId: string): Promise<Session> => {
  const { token } = await devToken(config.httpUrl, { tenantId: config.tenantId, userId, role: 'agent' });
  return sessionFromToken(token, true);
};

/**
 * Shows the sign-in form (unless a remembered, fragment or posted token signs in at once) and resolves
 * with the session.
 */
export const signIn = (config: RuntimeConfig): Promise<Session> => {
  const form = byId<HTMLFormElement>('sign-in-form');
  const section = byId('sign-in');
  const agentField = byId('agent-id-field');
  const agentInput = byId<HTMLInputElement>('agent-id');
  const tokenField = byId('token-field');
  const tokenInput = byId<HTMLTextAreaElement>('agent-token');
  const error = byId('sign-in-error');
  const dev = Boolean(config.devTokens);

  return new Promise<Session>((resolve) => {
    let stopListening = () => {};
    const done = (session: Session) => {
      stopListening();
      remember(session);
      if (dev) localStorage.setItem(AGENT_ID_KEY, session.userId);
      section.hidden = true;
      resolve(session);
    };
    const fail = (text: string) => {
      error.textContent = text;
      error.hidden = false;
    };
    const tryToken = (token: string) => {
      try {
        done(sessionFromToken(token.trim(), dev));
      } catch (cause) {
        fail(`Sign-in failed: ${errorText(cause)}`);
      }
    };

    const fragment = takeFragmentToken();
    if (fragment) return tryToken(fragment);
    const saved = remembered();
    if (saved) return done(saved);

    agentField.hidden = !dev;
    agentInput.required = dev;
    tokenField.hidden = dev;
    tokenInput.required = !dev;
    agentInput.value = localStorage.getItem(AGENT_ID_KEY) ?? agentInput.value;
    section.hidden = false;
    (dev ? agentInput : tokenInput).focus();
    if (!dev) {
      stopListening = onTokenMessage(config, tryToken);
      post({ type: 'chat-console:ready' });
    }

    let busy = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.hidden = true;
      if (!dev) return tryToken(tokenInput.value);
      if (busy) return;
      busy = true;
      form.setAttribute('aria-busy', 'true');
      mintDevSession(config, agentInput.value.trim())
        .then(done, (cause: unknown) => fail(`Sign-in failed: ${errorText(cause)}`))
        .finally(() => {
          busy = false;
          form.removeAttribute('aria-busy');
        });
    });
  });
};

/**
 * A fresh token after the current one expired: minted again locally; deployed, asked of the host
 * (postMessage) and awaited for a few seconds.
 */
export const renewToken = async (config: RuntimeConfig, session: Session): Promise<Session> => {
  if (session.dev) {
    const renewed = await mintDevSession(config, session.userId);
    remember(renewed);
    return renewed;
  }
  const token = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('the identity provider sent no new token'));
    }, RENEW_WAIT_MS);
    const stop = onTokenMessage(config, (value) => {
      clearTimeout(timer);
      stop();
      resolve(value);
    });
    post({ type: 'chat-console:token-request' });
  });
  const renewed = sessionFromToken(token);
  if (renewed.userId !== session.userId) throw new Error('the new token is for another user');
  remember(renewed);
  return renewed;
};
