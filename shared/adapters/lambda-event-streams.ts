/**
 * What the deployed bundles get for `@smithy/core/event-streams` (infra/constructs/bundling.ts aliases
 * that module to this file): event streams — the framed, checksummed binary messages of operations
 * such as S3's SelectObjectContent — are used by no operation this project calls, yet the SDK's code
 * for them was in every bundle that talks to AWS: about 15–20 KB, and its CRC32 made each function
 * load `node:zlib` at import (docs/benchmarks.md, "What keeps imports short").
 *
 * Only three names of that module are reached from the clients the functions bundle: every protocol
 * loads `EventStreamSerde` and `eventStreamSerdeProvider` on first use of an event-stream member
 * (which never comes), and the S3 client's constructor runs `resolveEventStreamSerdeConfig`. Here the
 * first two fail with a clear error, and the third installs a marshaller that fails the same way if an
 * event stream were ever serialized or read. A name the SDK starts importing from the module and this
 * file lacks stops the build (esbuild: "No matching export"). The local cloud and the tests run the
 * handlers' sources with the SDK's own module.
 */

const UNAVAILABLE =
  'event streams are not bundled in this function (shared/adapters/lambda-event-streams.ts): no operation it calls uses one';

const unavailable = (): never => {
  throw new Error(UNAVAILABLE);
};

/** Stands in for the SDK's event-stream marshaller: neither direction is available. */
const marshaller = { serialize: unavailable, deserialize: unavailable };

/** Same name as the SDK's: the provider a client config names for building its marshaller. */
export const eventStreamSerdeProvider = (_config?: unknown): never => unavailable();

/** Same name and shape as the SDK's: the config it is given, with a marshaller that always fails. */
export const resolveEventStreamSerdeConfig = <T extends object>(
  input: T,
): T & { eventStreamMarshaller: typeof marshaller } =>
  Object.assign(input, { eventStreamMarshaller: marshaller });

/** Same name as the SDK's class, which a protocol constructs on the first event-stream member. */
export class EventStreamSerde {
  constructor(_options?: unknown) {
    unavailable();
  }
}
