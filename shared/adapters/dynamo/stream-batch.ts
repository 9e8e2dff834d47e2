/**
 * A consumer that reports batch item failures (`ReportBatchItemFailures`) gets every record from the
 * lowest failed sequence number on delivered again. Work that must happen once per record (counters)
 * therefore only counts the records before the first failure.
 */
import type { DynamoDBRecord } from 'aws-lambda';

/** The records before the first one whose sequence number is in `failed` (all when none failed). */
export const recordsBeforeRetry = (
  records: readonly DynamoDBRecord[],
  failed: readonly string[],
): DynamoDBRecord[] => {
  const retried = new Set(failed);
  const first = records.findIndex((record) => retried.has(record.dynamodb?.SequenceNumber ?? ''));
  return first === -1 ? [...records] : records.slice(0, first);
};
