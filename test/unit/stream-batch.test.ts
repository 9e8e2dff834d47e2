/** Which records of a stream batch count once: those before the first failure the stream redelivers. */
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { recordsBeforeRetry } from '../../shared/adapters/dynamo/stream-batch.ts';

const record = (sequence: string): DynamoDBRecord => ({ dynamodb: { SequenceNumber: sequence } });
const batch = ['100', '200', '300', '400'].map(record);
const sequences = (records: DynamoDBRecord[]) => records.map((r) => r.dynamodb?.SequenceNumber);

describe('recordsBeforeRetry', () => {
  it('keeps the whole batch when nothing failed', () => {
    // Act
    const kept = recordsBeforeRetry(batch, []);

    // Assess
    expect(sequences(kept)).toEqual(['100', '200', '300', '400']);
  });

  it('stops before the lowest failed record, whichever failure is reported first', () => {
    // Act
    const kept = recordsBeforeRetry(batch, ['400', '200']);

    // Assess
    expect(sequences(kept)).toEqual(['100']);
  });
});
