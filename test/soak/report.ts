/** The soak's verdict (which checks failed) and its printed report. */
import { mb, type SoakFigures } from './soak.ts';

/** Heap after a full GC may grow this much over the run and still count as flat. */
export const HEAP_SLACK = { ratio: 0.25, bytes: 16 * 1024 * 1024 } as const;
/** Active handles (the same number of sockets open at both samples) may differ by this much. */
export const HANDLE_SLACK = { ratio: 0.05, count: 10 } as const;

/** Every failed check, in words; empty when the soak passed. */
export const failures = (figures: SoakFigures): string[] => {
  const failed: string[] = [];
  const { delivery, leaks, start, end, storm, afterStorm } = figures;
  if (delivery.delivered !== delivery.expected)
    failed.push(`final round delivered ${delivery.delivered} of ${delivery.expected}`);
  if (figures.holes > 0) failed.push(`${figures.holes} message(s) missing from sockets' chats`);
  if (figures.pingFailures > 0) failed.push(`${figures.pingFailures} ping(s) unanswered on open sockets`);
  if (figures.sent !== figures.acked) failed.push(`${figures.sent - figures.acked} send(s) never acked`);
  if (leaks.items > 0 || leaks.presence > 0)
    failed.push(`leaked: ${leaks.items} connection/subscription item(s), ${leaks.presence} presence item(s)`);
  if (start && end) {
    if (end.heapUsedBytes > start.heapUsedBytes * (1 + HEAP_SLACK.ratio) + HEAP_SLACK.bytes)
      failed.push(`heap grew ${mb(start.heapUsedBytes)} → ${mb(end.heapUsedBytes)}`);
    if (end.handleTotal > start.handleTotal * (1 + HANDLE_SLACK.ratio) + HANDLE_SLACK.count)
      failed.push(`handles grew ${start.handleTotal} → ${end.handleTotal}`);
  }
  if (figures.errors.length > 0) failed.push(`${figures.errors.length} error log line(s)`);
  if (storm.allBackMs === undefined)
    failed.push(`storm: ${storm.sockets - storm.back} socket(s) not back within the deadline`);
  if (storm.connect5xx > 0) failed.push(`storm: ${storm.connect5xx} $connect 5xx`);
  if (storm.ticket5xx > 0) failed.push(`storm: ${storm.ticket5xx} ticket 5xx`);
  if (storm.roundMissing > 0) failed.push(`storm: ${storm.roundMissing} message(s) of its round never held`);
  if (afterStorm.delivery.delivered !== afterStorm.delivery.expected)
    failed.push(
      `after the storm delivered ${afterStorm.delivery.delivered} of ${afterStorm.delivery.expected}`,
    );
  if (afterStorm.leaks.items > 0 || afterStorm.leaks.presence > 0)
    failed.push(
      `after the storm leaked: ${afterStorm.leaks.items} item(s), ${afterStorm.leaks.presence} presence item(s)`,
    );
  return failed;
};

const handleTypes = (sample: SoakFigures['start']): string =>
  sample
    ? Object.entries(sample.handles)
        .sort(([, a], [, b]) => b - a)
        .map(([type, count]) => `${type} ${count}`)
        .join(', ')
    : 'n/a';

/** A delivery round in words: delivered, how many of them after a server close, what is missing where. */
const round = (delivery: SoakFigures['delivery']): string =>
  `${delivery.delivered}/${delivery.expected} (${delivery.recovered} caught up after a server close` +
  `${delivery.delivered < delivery.expected ? `; missing on ${delivery.missingClosed} closed and ${delivery.missingOpen} open sockets` : ''})`;

export const formatReport = (figures: SoakFigures): string => {
  const { storm, start, end } = figures;
  const failed = failures(figures);
  const lines = [
    `soak: ${figures.sockets} sockets (${figures.users} users, ${figures.chats} chats), ${figures.minutes} min`,
    `  messages    sent ${figures.sent}, acked ${figures.acked} (${figures.sendFailures} resent), live pushes received ${figures.livePushes}`,
    `  pings       ${figures.pings}, unanswered ${figures.pingFailures}`,
    `  churn       closes ${figures.closes}, reopens ${figures.reopens}, failed reopen attempts ${figures.reopenFailures}; closed by the server ${figures.serverCloses}, came back ${figures.recoveries}`,
    `  delivered   final round ${round(figures.delivery)}, missing seqs ${figures.holes}`,
    `  leaked      ${figures.leaks.items} connection/subscription items, ${figures.leaks.presence} presence items${figures.leaks.samples.length ? ` (${figures.leaks.samples.join('; ')})` : ''}`,
    `  heap        ${mb(start?.heapUsedBytes)} → ${mb(end?.heapUsedBytes)} (rss ${mb(start?.rssBytes)} → ${mb(end?.rssBytes)})`,
    `  handles     ${start?.handleTotal ?? 'n/a'} → ${end?.handleTotal ?? 'n/a'}`,
    `              start: ${handleTypes(start)}`,
    `              end:   ${handleTypes(end)}`,
    `  logs        ${figures.errors.length} error, ${figures.warnings} warning`,
    ...figures.errors.slice(0, 5).map((line) => `              ${line.replace(/\s+/g, ' ').slice(0, 600)}`),
    `  storm       ${storm.back}/${storm.sockets} back and caught up; all back in ${storm.allBackMs === undefined ? 'n/a' : `${(storm.allBackMs / 1000).toFixed(1)} s`}; reconnect p50 ${storm.p50Ms} ms, p99 ${storm.p99Ms} ms`,
    `              round stored after ${(storm.roundStoredMs / 1000).toFixed(1)} s, missing afterwards ${storm.roundMissing}
              attempts ${storm.attempts}, $connect 5xx ${storm.connect5xx}, ticket 5xx ${storm.ticket5xx}, other failed attempts ${storm.otherFailures}`,
    ...Object.entries(storm.reasons)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 5)
      .map(([reason, count]) => `              ${count}× ${reason}`),
    `  after storm delivered ${round(figures.afterStorm.delivery)}, leaked ${figures.afterStorm.leaks.items} items, ${figures.afterStorm.leaks.presence} presence items, ${figures.afterStorm.withoutReady} open sockets without connection.ready`,
    ...figures.afterStorm.leaks.samples.map((sample) => `              ${sample}`),
    failed.length === 0 ? 'PASS' : `FAIL\n${failed.map((line) => `  - ${line}`).join('\n')}`,
  ];
  return lines.join('\n');
};
