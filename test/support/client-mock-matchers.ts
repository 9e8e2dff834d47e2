/**
 * Matchers for aws-sdk-client-mock stubs, registered for every test file by test/setup.ts:
 *
 *   expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
 *   expect(s3).toHaveReceivedNthCommandWith(HeadObjectCommand, 1, { Bucket, Key });
 *
 * `toHaveReceivedNthCommandWith` compares the whole input as `toEqual` does; for a part of it, pass
 * `expect.objectContaining({ … })` (asymmetric matchers work at any depth).
 */
import type { MatcherState } from 'vitest';

/** A command class, e.g. `PutCommand`. */
type CommandClass = abstract new (input: never) => unknown;

/** What the matchers read of a stub (`AwsStub` of aws-sdk-client-mock). */
interface ClientStub {
  commandCalls(command: CommandClass): readonly { readonly args: readonly [{ readonly input: unknown }] }[];
}

const isStub = (value: unknown): value is ClientStub =>
  typeof (value as Partial<ClientStub> | null)?.commandCalls === 'function';

const notAStub = (matcher: string) => ({
  pass: false,
  message: () => `${matcher}: expected an aws-sdk-client-mock stub (mockClient(...))`,
});

export const clientMockMatchers = {
  toHaveReceivedCommandTimes(this: MatcherState, received: unknown, command: CommandClass, times: number) {
    if (!isStub(received)) return notAStub('toHaveReceivedCommandTimes');
    const count = received.commandCalls(command).length;
    return {
      pass: count === times,
      message: () =>
        `expected the stub ${this.isNot ? 'not ' : ''}to have received ${command.name} ${times} time(s), got ${count}`,
      actual: count,
      expected: times,
    };
  },

  toHaveReceivedNthCommandWith(
    this: MatcherState,
    received: unknown,
    command: CommandClass,
    nth: number,
    input: unknown,
  ) {
    if (!isStub(received)) return notAStub('toHaveReceivedNthCommandWith');
    const calls = received.commandCalls(command);
    const call = calls[nth - 1];
    const pass = call !== undefined && this.equals(call.args[0].input, input);
    return {
      pass,
      message: () =>
        call === undefined
          ? `expected the stub to have received ${command.name} at least ${nth} time(s), got ${calls.length}`
          : `expected ${command.name} #${nth} ${this.isNot ? 'not ' : ''}to have had the input\n` +
            this.utils.diff(input, call.args[0].input),
      actual: call?.args[0].input,
      expected: input,
    };
  },
};

interface ClientMockMatchers<R = unknown> {
  /** The stub received `command` exactly `times` times. */
  toHaveReceivedCommandTimes(command: CommandClass, times: number): R;
  /** The input of the `nth` (from 1) `command` the stub received equals `input` (as `toEqual`). */
  toHaveReceivedNthCommandWith(command: CommandClass, nth: number, input: unknown): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type -- merges with vitest's own declaration
  interface Matchers<T = any> extends ClientMockMatchers<T> {}
}
