/**
 * Attachments: uploads go straight from the browser to S3 with a presigned POST whose policy pins the
 * key, the exact content type and the size; the bucket's ObjectCreated notification confirms them
 * (real size, image dimensions, an audio file's container and duration) and moves them from pending/
 * to files/; downloads are short-lived presigned GETs for participants, `attachment` unless the type is
 * an allow-listed image or audio type whose bytes were checked.
 */
import { attachmentKey, PENDING_EXPIRY_DAYS, pendingAttachmentId } from '../config/storage.ts';
import { ConflictError, DomainError, NotFoundError, ValidationError } from './errors.ts';
import type { Identity } from './identity.ts';
import { newId } from './ids.ts';
import { type AudioContainer, audioContainer, audioDurationMs } from './audio-info.ts';
import { imageSize } from './image-size.ts';
import type { AttachmentRecord, AttachmentStorage, AttachmentStore, Clock } from './ports.ts';
import type { AttachmentRef, ChatRecord, CreateAttachmentInput } from './schemas.ts';

export interface AttachmentConfig {
  readonly maxBytes: number;
  readonly allowedTypes: readonly string[];
  readonly inlineTypes: readonly string[];
  readonly uploadTtlSeconds: number;
  readonly downloadTtlSeconds: number;
}

/**
 * Bytes read to find image dimensions. Most headers sit in the first 64 KB; a JPEG's EXIF thumbnail,
 * ICC profile and XMP can push its size marker further, so a second read takes up to 1 MB.
 */
const IMAGE_HEAD_BYTES = [64 * 1024, 1024 * 1024] as const;

/** Voice recordings: the container the bytes of each audio type must be (MediaRecorder's outputs). */
const AUDIO_CONTAINERS: Readonly<Record<string, AudioContainer>> = {
  'audio/webm': 'webm',
  'audio/ogg': 'ogg',
  'audio/mp4': 'mp4',
};
/** Bytes read at each end of an audio file: its container's header, and its last pages or clusters. */
const AUDIO_PROBE_BYTES = 64 * 1024;

/** What a message carries of an attachment; only a ready attachment of the same chat qualifies. */
export const attachmentRefFor = (record: AttachmentRecord | undefined, chatId: string): AttachmentRef => {
  if (!record || record.chatId !== chatId) throw new NotFoundError('attachment');
  if (record.status !== 'ready' || !record.size || !record.kind) {
    throw new ConflictError('the attachment is not uploaded yet (or was rejected)');
  }
  return {
    attachmentId: record.attachmentId,
    fileName: record.fileName,
    contentType: record.contentType,
    size: record.size,
    kind: record.kind,
    ...(record.width && record.height ? { width: record.width, height: record.height } : {}),
    ...(record.durationMs ? { durationMs: record.durationMs } : {}),
  };
};

export class AttachmentService {
  constructor(
    private readonly records: AttachmentStore,
    private readonly storage: AttachmentStorage,
    private readonly authorize: (identity: Identity, chatId: string) => Promise<ChatRecord>,
    private readonly clock: Clock,
    private readonly config: AttachmentConfig,
  ) {}

  async requestUpload(identity: Identity, chatId: string, input: CreateAttachmentInput) {
    const chat = await this.authorize(identity, chatId);
    if (!this.config.allowedTypes.includes(input.contentType)) {
      throw new ValidationError(`content type ${input.contentType} is not allowed`, {
        allowed: this.config.allowedTypes,
      });
    }
    if (input.size > this.config.maxBytes) {
      throw new DomainError(413, 'too_large', `files may be at most ${this.config.maxBytes} bytes`, {
        maxBytes: this.config.maxBytes,
      });
    }
    const now = this.clock.now();
    const record: AttachmentRecord = {
      attachmentId: newId('att'),
      tenantId: chat.tenantId,
      chatId: chat.chatId,
      uploaderId: identity.userId,
      fileName: input.fileName,
      contentType: input.contentType,
      declaredSize: input.size,
      status: 'pending',
      createdAt: now.toISOString(),
    };
    await this.records.put(record, Math.floor(now.getTime() / 1000) + PENDING_EXPIRY_DAYS * 86_400);
    const upload = await this.storage.createUpload({
      key: attachmentKey('pending', record),
      contentType: record.contentType,
      size: record.declaredSize,
      maxBytes: this.config.maxBytes,
      expiresSeconds: this.config.uploadTtlSeconds,
    });
    return {
      attachmentId: record.attachmentId,
      upload: { url: upload.url, fields: upload.fields },
      expiresAt: upload.expiresAt,
    };
  }

  /**
   * Called for each object created under pending/ (S3 notifications are at-least-once, so this is
   * idempotent). Checks the real object against what was declared, reads image dimensions, moves it
   * to files/ and marks the record ready; anything that does not match is deleted and rejected.
   */
  async confirm(key: string): Promise<'ready' | 'rejected' | 'ignored'> {
    const attachmentId = pendingAttachmentId(key);
    const record = attachmentId ? await this.records.get(attachmentId) : undefined;
    if (!record || record.status !== 'pending') return 'ignored';
    const finalKey = attachmentKey('files', record);
    // A retry after the move but before the record update finds the object under files/.
    let source = key;
    let object = await this.storage.describe(key);
    if (!object) {
      source = finalKey;
      object = await this.storage.describe(finalKey);
      if (!object) return 'ignored';
    }
    const reject = async (reason: string) => {
      await this.storage.remove(source);
      await this.records.markRejected(record.attachmentId, reason);
      return 'rejected' as const;
    };
    if (object.size > record.declaredSize || object.size > this.config.maxBytes)
      return reject('larger than declared');
    if (object.contentType && object.contentType.toLowerCase() !== record.contentType)
      return reject('content type differs');
    const dimensions = record.contentType.startsWith('image/')
      ? await this.dimensionsOf(source, object.size)
      : undefined;
    const container = AUDIO_CONTAINERS[record.contentType];
    const audio = container ? await this.audioOf(source, object.size, container) : undefined;
    if (container && !audio) return reject('not a valid audio file of its type');
    // A type shown inline must really be that image or audio (no HTML or script served as image/png).
    if (this.config.inlineTypes.includes(record.contentType) && !dimensions && !audio)
      return reject(
        record.contentType.startsWith('image/') ? 'not a valid image' : 'not a valid file of its type',
      );
    if (source === key) await this.storage.promote(key, finalKey);
    await this.records.markReady(record.attachmentId, {
      size: object.size,
      kind: dimensions ? 'image' : audio ? 'audio' : 'file',
      ...(dimensions ? { width: dimensions.width, height: dimensions.height } : {}),
      ...(audio?.durationMs ? { durationMs: audio.durationMs } : {}),
      readyAt: this.clock.now().toISOString(),
    });
    return 'ready';
  }

  /** The audio file's duration (when its container states one), or undefined when it is not `expected`. */
  private async audioOf(
    key: string,
    size: number,
    expected: AudioContainer,
  ): Promise<{ durationMs?: number } | undefined> {
    const head = await this.storage.readStart(key, AUDIO_PROBE_BYTES);
    if (audioContainer(head) !== expected) return undefined;
    const tail =
      size <= AUDIO_PROBE_BYTES
        ? head
        : await this.storage.readRange(key, size - AUDIO_PROBE_BYTES, size - 1);
    const durationMs = audioDurationMs(expected, head, tail);
    return durationMs ? { durationMs } : {};
  }

  private async dimensionsOf(key: string, size: number) {
    for (const bytes of IMAGE_HEAD_BYTES) {
      const found = imageSize(await this.storage.readStart(key, bytes));
      if (found || size <= bytes) return found;
    }
    return undefined;
  }

  /**
   * The file of a deleted message's attachment goes (from files/, and from pending/ should a
   * confirmation still be under way), then its record: downloads answer 404. Idempotent.
   */
  async discard(attachmentId: string): Promise<void> {
    const record = await this.records.get(attachmentId);
    if (!record) return;
    await Promise.all([
      this.storage.remove(attachmentKey('files', record)),
      this.storage.remove(attachmentKey('pending', record)),
    ]);
    await this.records.remove(attachmentId);
  }

  /** A short-lived download URL for a participant (or an agent/service of the tenant). */
  async download(identity: Identity, attachmentId: string) {
    const record = await this.records.get(attachmentId);
    if (!record || record.tenantId !== identity.tenantId) throw new NotFoundError('attachment');
    await this.authorize(identity, record.chatId);
    const ref = attachmentRefFor(record, record.chatId);
    const url = await this.storage.downloadUrl({
      key: attachmentKey('files', record),
      fileName: record.fileName,
      contentType: record.contentType,
      inline: ref.kind !== 'file' && this.config.inlineTypes.includes(record.contentType),
      expiresSeconds: this.config.downloadTtlSeconds,
    });
    const expiresAt = new Date(
      this.clock.now().getTime() + this.config.downloadTtlSeconds * 1000,
    ).toISOString();
    return { ...ref, chatId: record.chatId, url, expiresAt };
  }
}
