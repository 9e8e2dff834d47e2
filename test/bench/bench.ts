/**
 * `npm run bench`: end-to-end latency, throughput, delivery integrity and DynamoDB capacity of the real
 * handlers in the local cloud, against a bare `ws` relay (test/bench/relay.ts) under the same load.
 *
 * N clients in M chats (client i is in chat i mod M; a chat's participants are all its clients). Each
 * client subscribes to its chat, sends `warmup` unmeasured messages, then K measured messages in one of
 * three load shapes: `open` (one every interval ± jitter ms whatever the acks do; by default more than
 * the local cloud sustains on 2 cores), `light` (the same at a lower rate) and `closed` (the next one as
 * soon as the previous is acked). Every (message, receiving client) pair is timed from just before the
 * sender's `ws.send` to the receiver's `message` event, matched on clientMessageId. All clients, the
 * relay and the local cloud's gateways and handlers share this one Node process (DynamoDB Local is a
 * java child), so figures include event-loop contention; the relay pays it too. Each cloud run also
 * prints what AWS would bill per 1M messages, by service (cost.ts, from the meters of capacity.ts and
 * cost-meters.ts and the prices of cost-prices.ts). The `hot` mode (not run by default;
 * `npm run bench:hot`) puts C closed-loop senders into one chat, then into one chat each (hot.ts). The
 * `broadcast` mode (not run by default; `npm run bench:broadcast`) has one sender post to one chat that
 * S sockets watch (broadcast.ts). The `polling` mode (not run by default; `--modes polling`) has V
 * visitors poll their chats as the browser SDK does: cost per visitor-hour, concurrency, delivery
 * latency (polling.ts).
 *
 * Options (argument, environment variable, default): `npm run bench -- --help`. Writes
 * bench-results/latest.json. Exit code 1 if any delivery was lost or duplicated, a seq was skipped or
 * repeated, a send failed, a hot chat's stored messages fail their check, a broadcast socket missed,
 * repeated or reordered a message, a poller missed, repeated or reordered a message (with --strict: a
 * hot, broadcast or polling goal is missed) or DynamoDB Local outlived the run. docs/benchmarks.md explains the output.
 *
 * This file is the entry point: the meter first, then the local cloud's module, then the runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBroadcast } from './broadcast.ts';
import {
  type BroadcastResult,
  broadcastFailures,
  broadcastGoal,
  broadcastTitle,
  broadcastVerdicts,
  printBroadcast,
} from './broadcast-report.ts';
import { installCapacityMeter } from './capacity.ts';
import { installCostMeters } from './cost-meters.ts';
import { printCost } from './cost-report.ts';
import { leftoverDynamoProcesses } from './cpu.ts';
import { type HotShapes, runHot } from './hot.ts';
import { type Goal, hotGoals, printHot } from './hot-report.ts';
import { loadIntegrityFailures } from './integrity.ts';
import { type RunResult, runOnce } from './load.ts';
import type { StreamPolling } from '../../infra/local/stream-pace.ts';
import { type LoadMode, OptionError, parseOptions, usage } from './options.ts';
import { type PollingResult, runPolling } from './polling.ts';
import { printReactions, type ReactionsResult, reactionsVerdict, runReactions } from './reactions.ts';
import { pollingIntegrityOk, printPolling } from './polling-report.ts';
import { appendUnits, num, printAppendNote, printIdleCpu, printMode, ratiosOf } from './report.ts';
import { describeMachine, type IdleCpu, lifecycle, startCloud } from './session.ts';
import { round } from './stats.ts';
import { type AppendEstimate, relayTarget, type Target } from './targets.ts';
import { now, progress } from './util.ts';

// Patches the DynamoDB clients' prototypes: every call of the in-process handlers is metered from here on.
const meter = installCapacityMeter();
// Frames and handler log bytes too, for the cost model (invocations once the cloud has loaded its handlers).
const costMeters = installCostMeters();
const { startLocalCloud, DEMO_TENANT } = await import('../../infra/local/cloud.ts');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The handlers log as deployed (infra/stack.ts sets no POWERTOOLS_LOG_LEVEL, so INFO; compact JSON lines;
 * metrics on), so the cost model counts the log bytes CloudWatch would ingest. cost-meters.ts keeps the
 * INFO records and metric lines out of the report.
 */
const DEPLOYED_LOGGING = {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
  POWERTOOLS_DEV: 'false',
  POWERTOOLS_METRICS_DISABLED: 'false',
};
const startDeployed =
  (streamPolling: StreamPolling): typeof startLocalCloud =>
  (cloudOptions = {}) =>
    startLocalCloud({
      ...cloudOptions,
      streamPolling,
      env: { ...DEPLOYED_LOGGING, ...cloudOptions.env },
    });
const STREAM_POLLING_LABEL: Readonly<Record<StreamPolling, string>> = {
  local: 'stream polled every 25 ms and on each write',
  aws: "stream polled 4 times a second, Lambda's base rate",
};

const main = async (): Promise<number> => {
  const options = parseOptions();
  const runTag = Date.now().toString(36);
  const { onCleanup, cleanup } = lifecycle(options.maxRunMs);
  const loadModes = options.modes.filter(
    (mode): mode is LoadMode =>
      mode !== 'hot' && mode !== 'broadcast' && mode !== 'polling' && mode !== 'reactions',
  );
  const reactionsMode = options.modes.includes('reactions');
  const hotMode = options.modes.includes('hot');
  const broadcastMode = options.modes.includes('broadcast');
  const pollingMode = options.modes.includes('polling');
  // The hot mode reads what was stored back, so it runs against the cloud only.
  const targets = options.targets.filter((name) => loadModes.length > 0 || name === 'cloud');

  const machine = describeMachine();
  if (loadModes.length > 0) {
    console.log(
      `serverless-chat bench: ${options.clients} clients in ${options.chats} chats ` +
        `(${Math.floor(options.clients / options.chats)}–${Math.ceil(options.clients / options.chats)} per chat), ` +
        `${options.messages} measured messages per client, warm-up ${options.warmup}, text ${options.textBytes} B`,
    );
  }
  if (hotMode) {
    console.log(
      `serverless-chat bench, hot mode: ${options.hot.senders} closed-loop senders over ${options.hot.via}, ` +
        `warm-up ${options.warmup}, text ${options.textBytes} B` +
        (targets.includes('cloud') ? '' : ' (not run: it needs the cloud target)'),
    );
  }
  if (broadcastMode) {
    console.log(
      broadcastTitle(options) + (targets.includes('cloud') ? '' : ' (not run: it needs the cloud target)'),
    );
  }
  if (pollingMode) {
    const { pollers, durationMs, sendMinMs, sendMaxMs, waitSeconds } = options.polling;
    console.log(
      `serverless-chat bench, polling mode: ${pollers} visitors polling over HTTP ` +
        `(${waitSeconds > 0 ? `long polls of ${waitSeconds} s` : 'short polls paced by the server'}), ` +
        `a counterpart each sending every ${sendMinMs}–${sendMaxMs} ms, ${durationMs} ms measured` +
        (targets.includes('cloud') ? '' : ' (not run: it needs the cloud target)'),
    );
  }
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}, ${machine.platform}` +
      (targets.includes('cloud') ? `; cloud: ${STREAM_POLLING_LABEL[options.streamPolling]}` : ''),
  );

  const results: RunResult[] = [];
  let hot: { shapes: HotShapes; goals: Goal[] } | undefined;
  let broadcast: BroadcastResult | undefined;
  let polling: PollingResult | undefined;
  let reactions: ReactionsResult | undefined;
  let appendEstimate: AppendEstimate | undefined;
  let idleCpu: IdleCpu | undefined;
  let dynamoPort: string | undefined;
  const started = now();
  try {
    for (const targetName of targets) {
      let target: Target;
      if (targetName === 'relay') {
        target = await relayTarget();
      } else {
        const cloud = await startCloud(startDeployed(options.streamPolling), DEMO_TENANT);
        ({ target, idleCpu, dynamoPort } = cloud);
        await costMeters.meterInvocations(ROOT);
      }
      let stopped = false;
      const stopTarget = async () => {
        if (stopped) return;
        stopped = true;
        await target.stop();
      };
      onCleanup(stopTarget);
      for (const mode of loadModes) {
        progress(`${targetName} / ${mode} loop…`);
        const result = await runOnce(target, mode, options, runTag, meter, costMeters);
        progress(
          `${targetName} / ${mode} loop: ${result.messages.acked} messages, p50 ${num(result.latencyMs.p50)} ms, ` +
            `lost ${result.deliveries.lost}, duplicates ${result.deliveries.duplicates}`,
        );
        results.push(result);
      }
      const sampleChat = results.at(-1)?.seq.perChat[0]?.chatId;
      if (target.estimateAppend && sampleChat) {
        appendEstimate = await target.estimateAppend(sampleChat).catch((error: unknown) => {
          progress(`could not read back the items of one append: ${String(error)}`);
          return undefined;
        });
      }
      if (hotMode && targetName === 'cloud') {
        const shapes = await runHot(target, options, runTag, meter);
        hot = { shapes, goals: hotGoals(shapes, options) };
      }
      if (broadcastMode && targetName === 'cloud') {
        broadcast = await runBroadcast(target, options, DEMO_TENANT, runTag, meter);
      }
      if (pollingMode && targetName === 'cloud') {
        polling = await runPolling(target, options, runTag, meter, costMeters);
      }
      if (reactionsMode && targetName === 'cloud') {
        reactions = await runReactions(target, options, runTag, meter, costMeters);
      }
      await stopTarget();
    }
  } finally {
    await cleanup();
  }
  const leftover = leftoverDynamoProcesses(dynamoPort);

  for (const mode of loadModes) {
    const ofMode = results.filter((result) => result.mode === mode);
    printMode(mode, options, ofMode);
    const cost = ofMode.find((result) => result.cost)?.cost;
    if (cost) printCost(cost, `cloud, ${mode}, ${STREAM_POLLING_LABEL[options.streamPolling]}`);
    if (cost && options.streamPolling === 'local')
      console.log(
        "stream pace: the fan-out's lines per batch (its requests, its subscribers read) follow the stream's " +
          "batches, which the local cloud's quick pace makes smaller than Lambda's: --stream-polling aws " +
          'batches as an event source mapping does (docs/benchmarks.md, "Cost per message")',
      );
  }
  if (hot) printHot(hot.shapes, hot.goals, options);
  if (broadcast) printBroadcast(broadcast);
  if (polling) printPolling(polling, options.strict);
  if (reactions) printReactions(reactions);
  if (appendEstimate) printAppendNote(appendEstimate);
  if (idleCpu) printIdleCpu(idleCpu);
  const failures = loadIntegrityFailures(results);
  const hotIntegrityOk = hot?.goals.every((goal) => goal.held || !goal.integrity) ?? true;
  const hotGoalsHeld = hot?.goals.every((goal) => goal.held) ?? true;
  const broadcastOk = broadcast ? broadcastFailures(broadcast).length === 0 : true;
  const broadcastGoalHeld = broadcast ? broadcastGoal(broadcast).held : true;
  const pollingOk = polling ? pollingIntegrityOk(polling) : true;
  const pollingGoalsHeld = polling?.goals.every((goal) => goal.held) ?? true;
  const verdicts = [
    ...(loadModes.length > 0
      ? [
          `integrity: ${failures.length === 0 ? 'OK (no lost or duplicated deliveries, no seq gaps, no failed sends)' : `FAILED in ${failures.map((result) => `${result.target}/${result.mode}`).join(', ')}`}`,
        ]
      : []),
    ...(hot
      ? [
          `hot integrity: ${hotIntegrityOk ? 'OK (stored seqs gap-free, one message per clientMessageId, every ack stored)' : 'FAILED'}`,
        ]
      : []),
    ...(broadcast ? broadcastVerdicts(broadcast) : []),
    ...(reactions ? [reactionsVerdict(reactions)] : []),
    ...(polling
      ? [
          `polling integrity: ${pollingOk ? 'OK (every message polled exactly once, in seq order, no seq skipped, no failed send)' : 'FAILED'}`,
        ]
      : []),
    `DynamoDB Local processes left after stop: ${leftover.ours} of this run` +
      (leftover.all > leftover.ours
        ? ` (${leftover.all - leftover.ours} others running on this machine)`
        : ''),
  ];
  console.log(`\n${verdicts.join('\n')}`);

  const out = resolve(ROOT, options.out);
  mkdirSync(dirname(out), { recursive: true });
  const ratios = Object.fromEntries(
    loadModes.flatMap((mode) => {
      const relay = results.find((result) => result.mode === mode && result.target === 'relay');
      const cloud = results.find((result) => result.mode === mode && result.target === 'cloud');
      return relay && cloud ? [[mode, ratiosOf(cloud, relay)]] : [];
    }),
  );
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt: new Date(Date.now() - (now() - started)).toISOString(),
        durationMs: round(now() - started, 0),
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        options,
        machine,
        results,
        ratiosCloudOverRelay: ratios,
        ...(appendEstimate
          ? { appendEstimate: { itemBytes: appendEstimate.itemBytes, ...appendUnits(appendEstimate) } }
          : {}),
        integrityOk: failures.length === 0 && hotIntegrityOk && broadcastOk && pollingOk,
        ...(hot ? { hot: { ...hot.shapes, goals: hot.goals } } : {}),
        ...(broadcast
          ? {
              broadcast: {
                ...broadcast,
                integrityFailures: broadcastFailures(broadcast),
                goal: broadcastGoal(broadcast),
              },
            }
          : {}),
        ...(polling ? { polling } : {}),
        ...(reactions ? { reactions } : {}),
        idleCloudCpu: idleCpu,
        leftoverDynamoDbLocalProcesses: leftover.ours,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${out}  (total ${num((now() - started) / 1000)} s)`);
  meter.uninstall();
  const ok =
    failures.length === 0 &&
    hotIntegrityOk &&
    broadcastOk &&
    pollingOk &&
    (reactions ? reactions.failed === 0 && reactions.delivered === reactions.reactions : true) &&
    ((hotGoalsHeld && broadcastGoalHeld && pollingGoalsHeld) || !options.strict);
  return ok && leftover.ours === 0 ? 0 : 1;
};

main().then(
  (code) => {
    process.exitCode = code;
    // Everything was stopped; if some handle still keeps the loop alive, say which and leave anyway.
    const linger = setTimeout(() => {
      progress(
        `still alive 3 s after the end; active resources: ${process.getActiveResourcesInfo().join(', ')}`,
      );
      process.exit(code);
    }, 3_000);
    linger.unref();
  },
  (error: unknown) => {
    if (
      error instanceof OptionError ||
      (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    ) {
      console.error(`bench: ${error.message}\n\n${usage()}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
