/** AttachmentService with in-memory ports: confirmation paths, idempotency, and file-message checks. */
import { beforeEach, describe, expect, it } from 'vitest';
import { attachmentKey } from '../../shared/config/storage.ts';
import { AttachmentService, attachmentRefFor } from '../../shared/domain/attachments.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import type {
  AttachmentRecord,
  AttachmentStorage,
  AttachmentStore,
  ReadyDetails,
} from '../../shared/domain/ports.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';
import { oggOpus } from '../support/audio.ts';
import { png } from '../support/png.ts';
import { chatRecord } from '../support/fixtures.ts';

class MemoryRecords implements AttachmentStore {
  readonly items = new Map<string, AttachmentRecord>();
  async put(record: AttachmentRecord) {
    this.items.set(record.attachmentId, record);
  }
  async get(id: string) {
    return this.items.get(id);
  }
  async markReady(id: string, details: ReadyDetails) {
    const record = this.items.get(id);
    if (record?.status !== 'pending') return false;
    this.items.set(id, { ...record, ...details, status: 'ready' });
    return true;
  }
  async markRejected(id: string, reason: string) {
    const record = this.items.get(id);
    if (record?.status !== 'pending') return false;
    this.items.set(id, { ...record, status: 'rejected', rejectedReason: reason });
    return true;
  }
  async remove(id: string) {
    this.items.delete(id);
  }
  readonly claims = new Map<string, string>();
  async claim(id: string, claimant: string) {
    if (this.items.get(id)?.status !== 'ready') return false;
    const claimed = this.claims.get(id) ?? claimant;
    this.claims.set(id, claimed);
    return claimed === claimant;
  }
}

class MemoryStorage implements AttachmentStorage {
  readonly objects = new Map<string, { bytes: Buffer; contentType: string }>();
  readonly reads: number[] = [];
  async createUpload(input: { key: string; expiresSeconds: number }) {
    return {
      url: 'https://s3.example/bucket',
      fields: { key: input.key },
      expiresAt: new Date().toISOString(),
    };
  }
  async downloadUrl(input: { key: string; inline: boolean }) {
    return `https://cdn.example/${input.key}?inline=${input.inline}`;
  }
  async describe(key: string) {
    const object = this.objects.get(key);
    return object ? { size: object.bytes.length, contentType: object.contentType } : undefined;
  }
  async readStart(key: string, bytes: number) {
    this.reads.push(bytes);
    return new Uint8Array(this.objects.get(key)?.bytes.subarray(0, bytes) ?? []);
  }
  async readRange(key: string, start: number, end: number) {
    this.reads.push(end - start + 1);
    return new Uint8Array(this.objects.get(key)?.bytes.subarray(start, end + 1) ?? []);
  }
  async promote(from: string, to: string) {
    const object = this.objects.get(from);
    if (!object) throw new Error('no such object');
    this.objects.set(to, object);
    this.objects.delete(from);
  }
  async remove(key: string) {
    this.objects.delete(key);
  }
}

const chat: ChatRecord = chatRecord('2026-11-21T10:00:00.000Z', { chatId: 'ch_aaaaaaaaaaaaaaaaaaaa' });
const alice: Identity = { tenantId: 'acme', userId: 'alice', role: 'user' };
const config = {
  maxBytes: 10 * 1024 * 1024,
  allowedTypes: ['image/png', 'image/jpeg', 'text/plain'],
  inlineTypes: ['image/png', 'image/jpeg'],
  uploadTtlSeconds: 300,
  downloadTtlSeconds: 300,
};

let records: MemoryRecords;
let storage: MemoryStorage;
let service: AttachmentService;
beforeEach(() => {
  records = new MemoryRecords();
  storage = new MemoryStorage();
  service = new AttachmentService(records, storage, async () => chat, { now: () => new Date() }, config);
});

const upload = async (contentType: string, bytes: Buffer, declared = bytes.length) => {
  const { attachmentId } = await service.requestUpload(alice, chat.chatId, {
    fileName: 'f',
    contentType,
    size: declared,
  });
  const ids = { tenantId: 'acme', chatId: chat.chatId, attachmentId };
  storage.objects.set(attachmentKey('pending', ids), { bytes, contentType });
  return { attachmentId, pending: attachmentKey('pending', ids), files: attachmentKey('files', ids) };
};

describe('AttachmentService.confirm', () => {
  it('confirms a voice recording from its bytes: its container, its duration, played inline', async () => {
    const voice = {
      ...config,
      allowedTypes: ['audio/ogg', 'audio/webm'],
      inlineTypes: ['audio/ogg', 'audio/webm'],
    };
    service = new AttachmentService(records, storage, async () => chat, { now: () => new Date() }, voice);
    const recording = await upload('audio/ogg', oggOpus(2.5));
    const big = await upload(
      'audio/ogg',
      Buffer.concat([oggOpus(70).subarray(0, 200), Buffer.alloc(200_000), oggOpus(70).subarray(200)]),
    );
    const pretender = await upload('audio/webm', oggOpus(1));
    const html = await upload('audio/ogg', Buffer.from('<html><script>alert(1)</script></html>'));

    const outcomes = await Promise.all(
      [recording, big, pretender, html].map((u) => service.confirm(u.pending)),
    );
    const url = await service.download(alice, recording.attachmentId);

    expect(outcomes).toEqual(['ready', 'ready', 'rejected', 'rejected']);
    expect(records.items.get(recording.attachmentId)).toMatchObject({ kind: 'audio', durationMs: 2500 });
    expect(records.items.get(big.attachmentId)).toMatchObject({ kind: 'audio', durationMs: 70_000 });
    expect(records.items.get(pretender.attachmentId)?.rejectedReason).toBe(
      'not a valid audio file of its type',
    );
    expect(url).toMatchObject({ kind: 'audio', durationMs: 2500 });
    expect(url.url).toContain('inline=true');
  });

  it('marks an image ready with its dimensions and moves it from pending/ to files/', async () => {
    const { attachmentId, pending, files } = await upload('image/png', png(7, 5));

    const outcome = await service.confirm(pending);

    expect(outcome).toBe('ready');
    expect(records.items.get(attachmentId)).toMatchObject({
      status: 'ready',
      kind: 'image',
      width: 7,
      height: 5,
    });
    expect([storage.objects.has(pending), storage.objects.has(files)]).toEqual([false, true]);
  });

  it('ignores a repeated notification and keys that are not pending attachments', async () => {
    const { pending } = await upload('text/plain', Buffer.from('hi'));
    await service.confirm(pending);

    expect(await service.confirm(pending)).toBe('ignored');
    expect(await service.confirm('pending/acme/elsewhere/x')).toBe('ignored');
    expect(await service.confirm('files/acme/ch_aaaaaaaaaaaaaaaaaaaa/att_00000000000000000000')).toBe(
      'ignored',
    );
  });

  it('finishes a confirmation that failed after the move, when the notification is retried', async () => {
    // Prepare: the object already moved, the record still pending (the record update failed)
    const { attachmentId, pending, files } = await upload('image/png', png(2, 2));
    await storage.promote(pending, files);

    // Act
    const outcome = await service.confirm(pending);

    // Assess
    expect(outcome).toBe('ready');
    expect(records.items.get(attachmentId)?.status).toBe('ready');
  });

  it('rejects and deletes an object larger than declared, of another type, or not really an image', async () => {
    const bigger = await upload('text/plain', Buffer.from('0123456789'), 5);
    const retyped = await upload('text/plain', Buffer.from('x'));
    storage.objects.set(retyped.pending, { bytes: Buffer.from('x'), contentType: 'text/html' });
    const fake = await upload('image/png', Buffer.from('<html>not a png</html>'));

    const outcomes = await Promise.all([bigger, retyped, fake].map((u) => service.confirm(u.pending)));

    expect(outcomes).toEqual(['rejected', 'rejected', 'rejected']);
    expect([bigger, retyped, fake].map((u) => records.items.get(u.attachmentId)?.rejectedReason)).toEqual([
      'larger than declared',
      'content type differs',
      'not a valid image',
    ]);
    expect([bigger, retyped, fake].some((u) => storage.objects.has(u.pending))).toBe(false);
  });

  it('reads further into a large JPEG whose size marker is beyond the first 64 KB', async () => {
    // Prepare: SOI, a 100 KB APP1 segment split in two (each ≤ 64 KB), then SOF0 with 800×600
    const app1 = (length: number) =>
      Buffer.concat([Buffer.from([0xff, 0xe1, length >> 8, length & 0xff]), Buffer.alloc(length - 2)]);
    const sof0 = Buffer.from([
      0xff, 0xc0, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    ]);
    const jpeg = Buffer.concat([
      Buffer.from([0xff, 0xd8]),
      app1(60_000),
      app1(50_000),
      sof0,
      Buffer.alloc(200_000),
    ]);
    const { attachmentId, pending } = await upload('image/jpeg', jpeg);

    // Act
    await service.confirm(pending);

    // Assess
    expect(records.items.get(attachmentId)).toMatchObject({ status: 'ready', width: 800, height: 600 });
    expect(storage.reads).toEqual([64 * 1024, 1024 * 1024]);
  });
});

describe('file messages and downloads', () => {
  it('accepts only a ready attachment of the same chat in a message', async () => {
    const { attachmentId, pending } = await upload('text/plain', Buffer.from('hi'));

    expect(() => attachmentRefFor(records.items.get(attachmentId), chat.chatId)).toThrow(/not uploaded yet/);
    await service.confirm(pending);
    expect(attachmentRefFor(records.items.get(attachmentId), chat.chatId)).toMatchObject({
      attachmentId,
      kind: 'file',
      size: 2,
    });
    expect(() => attachmentRefFor(records.items.get(attachmentId), 'ch_bbbbbbbbbbbbbbbbbbbb')).toThrow(
      /not found/,
    );
  });

  it('serves images inline and everything else as an attachment', async () => {
    const image = await upload('image/png', png(1, 1));
    const text = await upload('text/plain', Buffer.from('hi'));
    await service.confirm(image.pending);
    await service.confirm(text.pending);

    const [imageLink, textLink] = await Promise.all([
      service.download(alice, image.attachmentId),
      service.download(alice, text.attachmentId),
    ]);

    expect(imageLink.url).toContain('inline=true');
    expect(textLink.url).toContain('inline=false');
  });

  it('refuses a download of another tenant’s attachment with 404', async () => {
    const { attachmentId, pending } = await upload('text/plain', Buffer.from('hi'));
    await service.confirm(pending);

    await expect(service.download({ ...alice, tenantId: 'other' }, attachmentId)).rejects.toMatchObject({
      status: 404,
    });
  });
});
