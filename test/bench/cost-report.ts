/**
 * The cost of one measured window of the cloud (cost.ts over what cost-meters.ts and capacity.ts saw), as
 * the report prints it and the JSON carries it: dollars per 1M chat messages by service and line, the
 * goal for the chat size, frames per message and the invocations behind the Lambda lines.
 */
import type { CapacityRow } from './capacity.ts';
import { type Cost, costPerMillionMessages, SERVICES } from './cost.ts';
import { type CostWindow, costInputOf, type LogWindow } from './cost-meters.ts';
import { dollars, PRICE_REGION, PRICES, PRICES_LOOKED_UP } from './cost-prices.ts';
import { quantity, table } from './report.ts';
import { round, type Stats, stats } from './stats.ts';

/** The goals of the issue "Cost model in the bench": dollars per 1M messages, by participants per chat. */
export const COST_GOALS: Readonly<Record<number, number>> = { 2: 4.5, 50: 55 };

export interface CostResult {
  /** Participants per chat in the run (min and max: clients are spread over the chats). */
  readonly participants: { readonly min: number; readonly max: number };
  readonly cost: Cost;
  readonly goal?: { readonly usdPerMillionMessages: number; readonly held: boolean };
  readonly frames: {
    readonly inPerMessage: number;
    readonly outPerMessage: number;
    /** Frames sent to clients per message, by envelope type. */
    readonly outByTypePerMessage: Readonly<Record<string, number>>;
    readonly inBytesMean: number;
    readonly outBytesMean: number;
    /** `message.created` frames delivered to the message's own sender, per message. */
    readonly echoesPerMessage: number;
  };
  readonly invocations: readonly {
    readonly name: string;
    readonly memoryMb: number;
    readonly perMessage: number;
    readonly durationMs: Stats;
    /** Mean billed duration: each invocation rounded up to the next 1 ms. */
    readonly billedMsMean: number;
    /** Dollars per 1M messages that every 10 ms of mean duration adds (to rescale to other durations). */
    readonly usdPer10Ms: number;
  }[];
  readonly logs: LogWindow;
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

export const costResult = (
  window: CostWindow,
  capacityRows: readonly CapacityRow[],
  messages: number,
  participants: { readonly min: number; readonly max: number },
  echoes: number,
): CostResult => {
  const cost = costPerMillionMessages(costInputOf(window, capacityRows, messages));
  const per = (count: number) => round(count / Math.max(1, messages), 3);
  const goalUsd = participants.min === participants.max ? COST_GOALS[participants.min] : undefined;
  return {
    participants,
    cost,
    ...(goalUsd !== undefined
      ? { goal: { usdPerMillionMessages: goalUsd, held: cost.usdPerMillionMessages <= goalUsd } }
      : {}),
    frames: {
      inPerMessage: per(window.frames.inBytes.length),
      outPerMessage: per(window.frames.outBytes.length),
      outByTypePerMessage: Object.fromEntries(
        Object.entries(window.frames.outByType).map(([type, count]) => [type, per(count)]),
      ),
      inBytesMean: round(mean(window.frames.inBytes), 0),
      outBytesMean: round(mean(window.frames.outBytes), 0),
      echoesPerMessage: per(echoes),
    },
    invocations: window.functions.map((use) => ({
      name: use.name,
      memoryMb: use.memoryMb,
      perMessage: per(use.durationsMs.length),
      durationMs: stats([...use.durationsMs]),
      billedMsMean: round(mean(use.durationsMs.map((ms) => Math.max(1, Math.ceil(ms)))), 1),
      usdPer10Ms: round(
        (dollars(PRICES.lambdaArmGbSecond, (use.memoryMb / 1024) * 0.01) * use.durationsMs.length * 1e6) /
          Math.max(1, messages),
        4,
      ),
    })),
    logs: window.logs,
  };
};

const usd = (value: number): string =>
  value === 0 ? '0' : value >= 0.995 ? value.toFixed(2) : value.toPrecision(2);

/** The cost table of one run, then its goal, its biggest line, frames per message and what is left out. */
export const printCost = (result: CostResult, label: string): void => {
  const { cost, participants, frames } = result;
  const size =
    participants.min === participants.max
      ? `${participants.min} participants per chat`
      : `${participants.min}–${participants.max} participants per chat`;
  console.log(
    `\nCost per 1M messages (${label}, ${size}, ${cost.messages} messages; ${PRICE_REGION} list prices ` +
      `looked up ${PRICES_LOOKED_UP}, test/bench/cost-prices.ts):\n`,
  );
  const rows = cost.lines.map((line) => [
    line.service,
    line.item,
    `${quantity(line.perMessage)} ${line.unit}`,
    usd(line.usdPerMillionMessages),
  ]);
  for (const service of SERVICES) rows.push([service, 'subtotal', '', usd(cost.byService[service])]);
  rows.push(['total', '', '', usd(cost.usdPerMillionMessages)]);
  console.log(table(['service', 'item', 'per message', '$ per 1M msg'], rows, 2));
  if (result.goal) {
    console.log(
      `goal ≤ $${result.goal.usdPerMillionMessages.toFixed(2)} per 1M messages at ${participants.min} participants: ` +
        `${result.goal.held ? 'holds' : 'MISSED'} ($${usd(cost.usdPerMillionMessages)})`,
    );
  }
  const top = [...SERVICES].sort((a, b) => cost.byService[b] - cost.byService[a])[0];
  if (cost.dominant && top) {
    console.log(
      `dominant: ${top} ($${usd(cost.byService[top])} of $${usd(cost.usdPerMillionMessages)}); biggest line: ` +
        `${cost.dominant.service} ${cost.dominant.item} ($${usd(cost.dominant.usdPerMillionMessages)})`,
    );
  }
  const types = Object.entries(frames.outByTypePerMessage)
    .map(([type, count]) => `${type} ${quantity(count)}`)
    .join(', ');
  console.log(
    `frames per message: in ${quantity(frames.inPerMessage)} (≈ ${frames.inBytesMean} B each), out ` +
      `${quantity(frames.outPerMessage)} (${types}; ≈ ${frames.outBytesMean} B each), billed per started 32 KB`,
  );
  if (frames.echoesPerMessage > 0) {
    console.log(
      `  of them the sender's own message.created: ${quantity(frames.echoesPerMessage)} per message, on the ` +
        `socket whose ack already carried the stored message (seq, messageId, createdAt): ` +
        `$${usd((frames.echoesPerMessage * PRICES.wsMessage.usd * 1e6) / PRICES.wsMessage.per)} per 1M messages the client does not need`,
    );
  }
  for (const use of result.invocations) {
    console.log(
      `Lambda ${use.name} (${use.memoryMb} MB): ${quantity(use.perMessage)} invocations per message, billed ` +
        `${quantity(use.billedMsMean)} ms each on average as measured here (p50 ${quantity(use.durationMs.p50)} ms); ` +
        `every 10 ms of it costs $${usd(use.usdPer10Ms)} per 1M messages`,
    );
  }
  console.log(
    `not per message: WebSocket connection minutes ($${PRICES.wsConnectionMinute.usd} per 1M: ` +
      `$${usd((60 * PRICES.wsConnectionMinute.usd) / PRICES.wsConnectionMinute.per)} per participant-hour ` +
      `connected), Lambda init time of cold starts, storage, custom metrics; Streams reads by Lambda are free`,
  );
};
