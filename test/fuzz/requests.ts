/**
 * Generated requests for one HTTP route of the route table (path, query, headers, body) and one client
 * frame per WebSocket action, from the schemas infra/openapi.ts gives each route and the client-frame
 * union of shared/domain/schemas.ts.
 */
import { fc } from '@fast-check/vitest';
import { operations } from '../../infra/openapi.ts';
import type { HttpRoute } from '../../shared/config/routes.ts';
import { clientFrame } from '../../shared/domain/schemas.ts';
import {
  fromJsonSchema,
  type Hints,
  type JsonSchema,
  jsonSchemaOf,
  mutated,
  oddString,
  rawJsonText,
} from './arbitraries.ts';
import { authorizationArb, type Caller, CALLERS, type Fixture, hintsFor } from './harness.ts';

export interface HttpCase {
  readonly caller: Caller;
  readonly method: string;
  /** Path and query, percent-encoded as sent. */
  readonly target: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Percent-encodes the UTF-8 of a value (lone surrogates become U+FFFD, as in any UTF-8 request). */
const encode = (value: string): string =>
  [...Buffer.from(value, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return byte < 0x80 && UNRESERVED.test(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

/** Percent-encodings that do not decode to UTF-8, or decode to separators. */
const RAW_SEGMENTS = ['%ED%A0%80', '%FF', '%', '%2', '%2F', '%00', '%C0%AF', '%E2%80%AE', '%25'];
/** A browser-style URL resolves these before sending: they never reach a route. */
const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

const text = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)).slice(0, 2_000);

const segmentArb = (name: string, hints: Hints): fc.Arbitrary<string> =>
  fc
    .oneof(
      {
        weight: 6,
        arbitrary: (hints[name] ?? fc.string()).map((value) => encode(text(value).slice(0, 2_000))),
      },
      oddString(10).map(encode),
      fc.constantFrom(...RAW_SEGMENTS),
    )
    .filter((segment) => segment !== '' && !DOT_SEGMENT.test(segment));

/** Longer query strings are refused by API Gateway (431/414) before any function runs. */
const MAX_QUERY_LENGTH = 4_000;
const RAW_QUERIES = ['%', 'a=%ZZ', '=', '&&', 'a', 'a=1&a=2', 'limit=1&limit=2', 'cursor', `x=${'%E0%A4%A'}`];

const queryArb = (schema: JsonSchema | undefined, hints: Hints): fc.Arbitrary<string> => {
  const valid = schema ? fromJsonSchema(schema, hints) : fc.constant({});
  return fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: valid }, mutated(valid)),
      fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, fc.constantFrom(...RAW_QUERIES)),
    )
    .map(([query, raw]) => {
      const entries =
        query && typeof query === 'object' && !Array.isArray(query)
          ? Object.entries(query as Record<string, unknown>)
          : [['q', query] as const];
      const parts = entries
        .filter(([, value]) => value !== undefined)
        .map(([k, v]) => `${encode(k)}=${encode(text(v).slice(0, 300))}`);
      if (raw) parts.push(raw);
      // API Gateway's own limit on the request line (10 KB with the headers) answers longer ones itself.
      return parts.length > 0 ? `?${parts.join('&')}`.slice(0, MAX_QUERY_LENGTH) : '';
    });
};

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
];
const headerValue = fc
  .string({ maxLength: 40, unit: 'grapheme-ascii' })
  .map((value) => value.replace(/[\r\n]/g, ''));
const extraHeadersArb = fc.dictionary(
  fc.constantFrom(
    'x-forwarded-for',
    'origin',
    'accept',
    'content-encoding',
    'user-agent',
    'cookie',
    'x-fuzz',
  ),
  fc.oneof(headerValue, fc.constantFrom('gzip', '1.2.3.4, 5.6.7.8', 'null', 'http://evil.example')),
  { maxKeys: 3 },
);

/** The body: a (mutated) value of the route's schema as JSON, raw text that is not JSON, or nothing. */
const bodyArb = (schema: JsonSchema | undefined, hints: Hints): fc.Arbitrary<string | undefined> => {
  const valid = schema ? fromJsonSchema(schema, hints) : fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(
    { weight: schema ? 10 : 1, arbitrary: mutated(valid).map((value) => JSON.stringify(value)) },
    { weight: schema ? 1 : 2, arbitrary: rawJsonText },
    { weight: schema ? 1 : 4, arbitrary: fc.constant(undefined) },
  );
};

/** Requests for `route`, from every kind of caller. */
export const httpCaseArb = (route: HttpRoute, fixture: Fixture): fc.Arbitrary<HttpCase> => {
  const operation = operations[`${route.method} ${route.path}`];
  if (!operation) throw new Error(`no schemas for ${route.method} ${route.path} (infra/openapi.ts)`);
  const hints = hintsFor(fixture);
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
  const segments = fc.tuple(...params.map((name) => segmentArb(name, hints)));
  const body =
    route.method === 'GET'
      ? fc.constant(undefined)
      : bodyArb(operation.body && jsonSchemaOf(operation.body), hints);
  return fc.constantFrom(...CALLERS).chain((caller) =>
    fc
      .record({
        segments,
        query: queryArb(operation.query && jsonSchemaOf(operation.query), hints),
        authorization: authorizationArb(fixture, caller),
        contentType: fc.oneof(
          { weight: 6, arbitrary: fc.constant('application/json') },
          fc.constantFrom(...CONTENT_TYPES, undefined),
        ),
        extra: extraHeadersArb,
        body,
      })
      .map(({ segments: values, query, authorization, contentType, extra, body: payload }) => {
        let index = 0;
        const path = route.path.replace(/\{\w+\}/g, () => values[index++] ?? 'x');
        const headers: Record<string, string> = { ...extra };
        if (authorization !== undefined) headers.authorization = authorization;
        if (payload !== undefined && contentType !== undefined) headers['content-type'] = contentType;
        return {
          caller,
          method: route.method,
          target: `${path}${query}`,
          headers,
          ...(payload === undefined ? {} : { body: payload }),
        };
      }),
  );
};

// ---- WebSocket frames -----------------------------------------------------------------------------------

const frameVariants = (): Map<string, JsonSchema> => {
  const union = jsonSchemaOf(clientFrame);
  const variants = new Map<string, JsonSchema>();
  for (const variant of union.oneOf ?? union.anyOf ?? []) {
    const action = variant.properties?.action?.const;
    if (typeof action === 'string') variants.set(action, variant);
  }
  return variants;
};

/** Larger frames close the socket with 1009 at the gateway (docs/protocol.md): no function sees them. */
const MAX_FRAME_BYTES = 128 * 1024;

/** The text frames sent for an action's route (`$default`: unknown actions and frames that are no JSON). */
export const frameArb = (routeKey: string, fixture: Fixture): fc.Arbitrary<string> => {
  const hints = hintsFor(fixture);
  const variant = frameVariants().get(routeKey);
  const valid = variant
    ? fromJsonSchema(variant, hints)
    : fc.record({
        action: fc.oneof(
          fc.string(),
          oddString(6),
          fc.constantFrom('$connect', '$disconnect', '$default', 'Ping', 'toString', '__proto__'),
        ),
      });
  return fc
    .oneof(
      { weight: 8, arbitrary: mutated(valid).map((value) => JSON.stringify(value) ?? 'null') },
      { weight: 2, arbitrary: rawJsonText },
    )
    .filter((frame) => Buffer.byteLength(frame) <= MAX_FRAME_BYTES);
};
