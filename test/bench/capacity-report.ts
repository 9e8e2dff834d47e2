/** The capacity meter's rows of one measured window, per message, as the report and the JSON carry them. */
import type { CapacityRow } from './capacity.ts';
import { readRequestUnits, writeRequestUnits } from './cost.ts';
import type { BilledCall, BillingBasis } from './cost-dynamodb.ts';
import { round, type Stats, stats } from './stats.ts';

/** Request units as AWS would bill the calls (cost-dynamodb.ts), failed calls included. */
export interface BilledUnits {
  readonly rru: number;
  readonly wru: number;
  /** Of wru, the part written to global secondary indexes. */
  readonly gsiWru: number;
}

export const billedUnits = (calls: readonly BilledCall[]): BilledUnits => {
  let rru = 0;
  let wru = 0;
  let gsiWru = 0;
  for (const call of calls) {
    if (call.kind === 'read') rru += readRequestUnits(call.consistency, call.itemBytes);
    else {
      const units = writeRequestUnits(call);
      wru += units.table + units.index;
      gsiWru += units.index;
    }
  }
  return { rru, wru, gsiWru };
};

export interface CapacityLine {
  readonly operation: string;
  readonly target: string;
  readonly calls: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly unreported: number;
  readonly perMessage: {
    readonly calls: number;
    readonly rcu: number;
    readonly wcu: number;
    /** Of rcu/wcu, the part spent on global secondary indexes. */
    readonly gsiRcu: number;
    readonly gsiWcu: number;
    /** As AWS would bill them (failed calls included). */
    readonly billed: BilledUnits;
  };
  /** How the billed units were found: from item sizes, from DynamoDB Local's figure, or assumed. */
  readonly billedBasis: Partial<Record<BillingBasis, number>>;
  /** Duration of the calls (successful and failed) as the handlers saw them. */
  readonly callMs: Stats;
  /** The ConsumedCapacity of one successful call, as DynamoDB returned it. */
  readonly sample?: unknown;
}

export interface CapacityTotals {
  readonly rcu: number;
  readonly wcu: number;
  readonly gsiRcu: number;
  readonly gsiWcu: number;
  readonly calls: number;
  /** As AWS would bill them (failed calls included). */
  readonly billed: BilledUnits;
}

export interface CapacityReport {
  readonly messages: number;
  readonly perMessage: CapacityTotals;
  readonly total: CapacityTotals;
  readonly rows: readonly CapacityLine[];
}

export const capacityReport = (rows: readonly CapacityRow[], messages: number): CapacityReport => {
  const per = (value: number) => round(value / Math.max(1, messages), 3);
  const perUnits = (units: BilledUnits): BilledUnits => ({
    rru: per(units.rru),
    wru: per(units.wru),
    gsiWru: per(units.gsiWru),
  });
  const billed = billedUnits(rows.flatMap((row) => row.billed));
  const total = rows.reduce(
    (sum, row) => ({
      rcu: sum.rcu + row.readCapacityUnits,
      wcu: sum.wcu + row.writeCapacityUnits,
      gsiRcu: sum.gsiRcu + row.indexReadCapacityUnits,
      gsiWcu: sum.gsiWcu + row.indexWriteCapacityUnits,
      calls: sum.calls + row.calls,
    }),
    { rcu: 0, wcu: 0, gsiRcu: 0, gsiWcu: 0, calls: 0 },
  );
  return {
    messages,
    perMessage: {
      rcu: per(total.rcu),
      wcu: per(total.wcu),
      gsiRcu: per(total.gsiRcu),
      gsiWcu: per(total.gsiWcu),
      calls: per(total.calls),
      billed: perUnits(billed),
    },
    total: {
      rcu: round(total.rcu),
      wcu: round(total.wcu),
      gsiRcu: round(total.gsiRcu),
      gsiWcu: round(total.gsiWcu),
      calls: total.calls,
      billed: { rru: round(billed.rru), wru: round(billed.wru), gsiWru: round(billed.gsiWru) },
    },
    rows: rows.map((row) => ({
      operation: row.operation,
      target: row.target,
      calls: row.calls,
      failed: row.failed,
      failures: row.failures,
      unreported: row.unreported,
      perMessage: {
        calls: per(row.calls),
        rcu: per(row.readCapacityUnits),
        wcu: per(row.writeCapacityUnits),
        gsiRcu: per(row.indexReadCapacityUnits),
        gsiWcu: per(row.indexWriteCapacityUnits),
        billed: perUnits(billedUnits(row.billed)),
      },
      billedBasis: row.billed.reduce<Partial<Record<BillingBasis, number>>>((counts, call) => {
        counts[call.basis] = (counts[call.basis] ?? 0) + 1;
        return counts;
      }, {}),
      callMs: stats(row.durationsMs),
      ...(row.sample !== undefined ? { sample: row.sample } : {}),
    })),
  };
};
