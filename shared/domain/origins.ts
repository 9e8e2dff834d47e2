/**
 * A tenant's allowed widget origins. Each entry is one of:
 *  - `*`                         any origin;
 *  - `https://shop.example`      exactly that origin (scheme, host and port; default port implied);
 *  - `http://localhost:*`        that scheme and host on any port, the default port included.
 * Hosts are lower-case; no path, query or trailing slash. A browser's `Origin` header is compared with
 * each entry; callers that send no Origin (servers) are not subject to the list.
 */
const PATTERN = /^(https?):\/\/([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(\*|[0-9]{1,5}))?$/;

/** Why an origin pattern is invalid, or undefined when it is valid. */
export const originPatternProblem = (pattern: string): string | undefined => {
  if (pattern === '*') return undefined;
  const match = PATTERN.exec(pattern);
  if (!match)
    return `'${pattern}' is not an origin pattern: use *, scheme://host, scheme://host:port or scheme://host:* (lower-case, no path)`;
  const port = match[3];
  if (port !== undefined && port !== '*' && (Number(port) < 1 || Number(port) > 65535))
    return `'${pattern}' has an invalid port`;
  return undefined;
};

const DEFAULT_PORT: Readonly<Record<string, string>> = { http: '80', https: '443' };

/** Whether a browser origin (`Origin` header) matches one pattern. */
export const originMatches = (pattern: string, origin: string): boolean => {
  if (pattern === '*') return true;
  const wanted = PATTERN.exec(pattern);
  const given = PATTERN.exec(origin.toLowerCase());
  if (!wanted || !given || given[3] === '*') return false;
  const [, scheme, host, port] = wanted;
  const [, givenScheme, givenHost, givenPort] = given;
  if (scheme !== givenScheme || host !== givenHost || scheme === undefined) return false;
  if (port === '*') return true;
  return (port ?? DEFAULT_PORT[scheme]) === (givenPort ?? DEFAULT_PORT[scheme]);
};

/** An origin is allowed when the list is empty (no restriction) or one pattern matches it. */
export const originAllowed = (patterns: readonly string[], origin: string): boolean =>
  patterns.length === 0 || patterns.some((pattern) => originMatches(pattern, origin));
