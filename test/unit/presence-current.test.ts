/** Which presence changes of a batch are still announced (shared/domain/presence-current.ts). */
import { describe, expect, it } from 'vitest';
import type { PresenceTransition } from '../../shared/domain/ports.ts';
import { withoutSuperseded } from '../../shared/domain/presence-current.ts';

const transition = (userId: string, online: boolean, id: string): PresenceTransition => ({
  userId,
  role: 'visitor',
  online,
  at: '2026-12-05T10:00:00.000Z',
  id,
});

/** A presence store holding the given last transitions, per tenant; it counts its reads. */
const storeOf = (stored: Record<string, PresenceTransition[]>) => {
  const reads: { tenantId: string; userIds: readonly string[] }[] = [];
  return {
    reads,
    transitions: (tenantId: string, userIds: readonly string[]) => {
      reads.push({ tenantId, userIds });
      return Promise.resolve((stored[tenantId] ?? []).filter((t) => userIds.includes(t.userId)));
    },
  };
};

describe('withoutSuperseded', () => {
  it('drops the offline change of a user online again, and keeps the others', async () => {
    // Prepare: ann and bob went offline; ann is back (a newer online transition), bob is not
    const annOff = { tenantId: 'acme', transition: transition('ann', false, 'p_ann_off') };
    const bobOff = { tenantId: 'acme', transition: transition('bob', false, 'p_bob_off') };
    const carolOn = { tenantId: 'acme', transition: transition('carol', true, 'p_carol_on') };
    const store = storeOf({
      acme: [
        transition('ann', true, 'p_ann_back'),
        transition('bob', false, 'p_bob_off'),
        carolOn.transition,
      ],
    });

    // Act
    const announced = await withoutSuperseded([annOff, bobOff, carolOn], store);

    // Assess: one read for the tenant's offline users only
    expect(announced).toEqual([bobOff, carolOn]);
    expect(store.reads).toEqual([{ tenantId: 'acme', userIds: ['ann', 'bob'] }]);
  });

  it('announces an offline change when nothing newer is stored, or the read does not find the user', async () => {
    // Prepare: dan's stored transition is this very one; eve's item was not found (stale read, TTL)
    const danOff = { tenantId: 'acme', transition: transition('dan', false, 'p_dan_off') };
    const eveOff = { tenantId: 'acme', transition: transition('eve', false, 'p_eve_off') };
    const store = storeOf({ acme: [danOff.transition] });

    // Act
    const announced = await withoutSuperseded([danOff, eveOff], store);

    // Assess
    expect(announced).toEqual([danOff, eveOff]);
  });

  it('reads each tenant once, and nothing when the batch has no offline change', async () => {
    // Prepare
    const store = storeOf({ acme: [], globex: [transition('fay', true, 'p_fay_back')] });
    const acmeOff = { tenantId: 'acme', transition: transition('fay', false, 'p_a') };
    const globexOff = { tenantId: 'globex', transition: transition('fay', false, 'p_g') };
    const onlineOnly = { tenantId: 'acme', transition: transition('gus', true, 'p_gus_on') };

    // Act
    const mixed = await withoutSuperseded([acmeOff, globexOff], store);
    const readsForMixed = store.reads.length;
    const none = await withoutSuperseded([onlineOnly], store);

    // Assess: fay is back in globex only (a user id is per tenant)
    expect(mixed).toEqual([acmeOff]);
    expect(readsForMixed).toBe(2);
    expect(none).toEqual([onlineOnly]);
    expect(store.reads).toHaveLength(2);
  });
});
