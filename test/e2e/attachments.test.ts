/**
 * Attachments through the local cloud: presigned POST to the S3 emulator (a browser-style multipart
 * upload), confirmation by the bucket notification handler, file messages, participant-only downloads.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { api, connect, until } from '../support/clients.ts';
import { png } from '../support/png.ts';

const MAX_BYTES = 64 * 1024;
let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  cloud = await startLocalCloud({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    env: { ATTACHMENT_MAX_BYTES: String(MAX_BYTES) },
  });
  client = api(cloud.urls.http);
  [alice, bob, carol] = await Promise.all([
    client.token('demo', 'alice', 'user'),
    client.token('demo', 'bob', 'user'),
    client.token('demo', 'carol', 'user'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

const newChat = async (token = alice, participants = ['bob']) =>
  (await client.call('POST', '/v1/chats', token, { participants })).body.chatId as string;

interface Upload {
  attachmentId: string;
  upload: { url: string; fields: Record<string, string> };
}
const requestUpload = (token: string, chatId: string, body: Record<string, unknown>) =>
  client.call('POST', `/v1/chats/${chatId}/attachments`, token, body);

/** What a browser does with the presigned POST: the policy fields first, the file last. */
const postFile = async (upload: Upload['upload'], bytes: Buffer, contentType: string, fileName: string) => {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), fileName);
  const response = await fetch(upload.url, { method: 'POST', body: form });
  await cloud.idle();
  return response.status;
};

const uploadReady = async (chatId: string, bytes: Buffer, contentType: string, fileName: string) => {
  const requested = await requestUpload(alice, chatId, { fileName, contentType, size: bytes.length });
  expect(requested.status).toBe(201);
  const { attachmentId, upload } = requested.body as unknown as Upload;
  expect(await postFile(upload, bytes, contentType, fileName)).toBeLessThan(300);
  return attachmentId;
};

const sendFile = (token: string, chatId: string, attachmentId: string, clientMessageId: string) =>
  client.call('POST', `/v1/chats/${chatId}/messages`, token, {
    clientMessageId,
    type: 'file',
    attachmentId,
    text: 'see attached',
  });

describe('attachments', () => {
  it('uploads an image, sends it as a message, and lets the other participant download identical bytes', async () => {
    // Prepare
    const chatId = await newChat();
    const image = png(3, 2);

    // Act
    const attachmentId = await uploadReady(chatId, image, 'image/png', 'photo 1.png');
    const sent = await sendFile(alice, chatId, attachmentId, 'f1');
    const link = await client.call('GET', `/v1/attachments/${attachmentId}`, bob);
    const download = await fetch(link.body.url as string);
    const bytes = Buffer.from(await download.arrayBuffer());

    // Assess
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      type: 'file',
      text: 'see attached',
      attachment: {
        attachmentId,
        fileName: 'photo 1.png',
        contentType: 'image/png',
        size: image.length,
        kind: 'image',
        width: 3,
        height: 2,
      },
    });
    expect(link.status).toBe(200);
    expect(download.status).toBe(200);
    expect(bytes.equals(image)).toBe(true);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toMatch(/^inline; filename=/);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(new URL(link.body.url as string).origin).toBe(new URL(cloud.urls.web).origin);
  });

  it('sends a file message over the socket and delivers it with its attachment to the other participant', async () => {
    // Prepare
    const chatId = await newChat();
    const attachmentId = await uploadReady(chatId, png(4, 4), 'image/png', 'socket.png');
    const [a, b] = await Promise.all([connect(client, alice), connect(client, bob)]);
    await Promise.all([
      a.request({ action: 'subscribe', chatId }),
      b.request({ action: 'subscribe', chatId }),
    ]);

    // Act
    const ack = await a.request({
      action: 'sendMessage',
      chatId,
      clientMessageId: 'ws-file',
      type: 'file',
      attachmentId,
    });
    await until(() => b.messages(chatId).length === 1);

    // Assess
    expect(ack.type).toBe('ack');
    expect(b.messages(chatId)[0]?.data).toMatchObject({
      type: 'file',
      text: '',
      attachment: { attachmentId, kind: 'image', width: 4, height: 4 },
    });
    await Promise.all([a.close(), b.close()]);
  });

  it('serves a non-image file as an attachment download', async () => {
    const chatId = await newChat();
    const text = Buffer.from('hello, attachments\n');
    const attachmentId = await uploadReady(chatId, text, 'text/plain', 'notes.txt');

    const link = await client.call('GET', `/v1/attachments/${attachmentId}`, bob);
    const download = await fetch(link.body.url as string);

    expect(link.body).toMatchObject({ kind: 'file', size: text.length });
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="notes.txt"/);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await download.arrayBuffer()).equals(text)).toBe(true);
  });

  it('refuses a type outside the allow-list and an oversize declaration with a clear 4xx, storing nothing', async () => {
    const chatId = await newChat();

    const wrongType = await requestUpload(alice, chatId, {
      fileName: 'run.exe',
      contentType: 'application/x-msdownload',
      size: 10,
    });
    const oversize = await requestUpload(alice, chatId, {
      fileName: 'big.png',
      contentType: 'image/png',
      size: MAX_BYTES + 1,
    });
    const zero = await requestUpload(alice, chatId, {
      fileName: 'empty.png',
      contentType: 'image/png',
      size: 0,
    });
    const slash = await requestUpload(alice, chatId, {
      fileName: '../x.png',
      contentType: 'image/png',
      size: 10,
    });

    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatchObject({
      code: 'invalid_request',
      details: { allowed: expect.arrayContaining(['image/png']) },
    });
    expect(oversize.status).toBe(413);
    expect(oversize.body.error).toMatchObject({ code: 'too_large' });
    expect(zero.status).toBe(400);
    expect(slash.status).toBe(400);
  });

  it('refuses uploads and downloads to non-participants', async () => {
    const chatId = await newChat();
    const attachmentId = await uploadReady(chatId, png(1, 1), 'image/png', 'a.png');

    const upload = await requestUpload(carol, chatId, {
      fileName: 'c.png',
      contentType: 'image/png',
      size: 10,
    });
    const download = await client.call('GET', `/v1/attachments/${attachmentId}`, carol);
    const otherTenant = await client.call(
      'GET',
      `/v1/attachments/${attachmentId}`,
      await client.token('other', 'alice', 'user'),
    );

    expect(upload.status).toBe(403);
    expect(download.status).toBe(403);
    expect(otherTenant.status).toBe(404);
  });

  it('refuses a message pointing at another chat’s attachment or at one not uploaded yet, storing nothing', async () => {
    // Prepare
    const chatId = await newChat();
    const otherChat = await newChat();
    const elsewhere = await uploadReady(otherChat, png(2, 2), 'image/png', 'b.png');
    const pending = (
      await requestUpload(alice, chatId, { fileName: 'p.png', contentType: 'image/png', size: 100 })
    ).body.attachmentId as string;

    // Act
    const foreign = await sendFile(alice, chatId, elsewhere, 'x1');
    const notYet = await sendFile(alice, chatId, pending, 'x2');
    const chat = await client.call('GET', `/v1/chats/${chatId}`, alice);

    // Assess
    expect(foreign.status).toBe(404);
    expect(notYet.status).toBe(409);
    expect(chat.body.lastSeq).toBe(0);
  });

  it('binds an attachment to one message: a retry of that send gets it back, another message is refused', async () => {
    // Prepare: an image sent by alice
    const chatId = await newChat();
    const attachmentId = await uploadReady(chatId, png(2, 2), 'image/png', 'once.png');
    const first = await sendFile(alice, chatId, attachmentId, 'once-1');

    // Act: the same send retried, then another message of alice's and one of bob's naming the file
    const retried = await sendFile(alice, chatId, attachmentId, 'once-1');
    const again = await sendFile(alice, chatId, attachmentId, 'once-2');
    const byBob = await sendFile(bob, chatId, attachmentId, 'once-1');
    const chat = await client.call('GET', `/v1/chats/${chatId}`, alice);

    // Assess
    expect(first.status).toBe(201);
    expect(retried.status).toBeLessThan(300);
    expect(retried.body.messageId).toBe(first.body.messageId);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'conflict' });
    expect(byBob.status).toBe(409);
    expect(chat.body.lastSeq).toBe(1);
  });

  it('rejects an upload whose bytes do not match the declaration (bigger, or not really an image)', async () => {
    // Prepare: declarations the emulator cannot enforce (it does not check the policy; S3 does)
    const chatId = await newChat();
    const script = Buffer.from('<script>alert(1)</script>');
    const small = (
      await requestUpload(alice, chatId, { fileName: 's.png', contentType: 'image/png', size: 10 })
    ).body as unknown as Upload;
    const fake = (
      await requestUpload(alice, chatId, { fileName: 'f.png', contentType: 'image/png', size: script.length })
    ).body as unknown as Upload;

    // Act
    await postFile(small.upload, png(8, 8), 'image/png', 's.png');
    await postFile(fake.upload, script, 'image/png', 'f.png');
    const [tooBig, notImage] = await Promise.all([
      sendFile(alice, chatId, small.attachmentId, 'r1'),
      sendFile(alice, chatId, fake.attachmentId, 'r2'),
    ]);

    // Assess
    expect(tooBig.status).toBe(409);
    expect(notImage.status).toBe(409);
    const table = createTableContext(cloud.tableName, cloud.urls.dynamodb);
    const records = await Promise.all(
      [small.attachmentId, fake.attachmentId].map(
        async (id) =>
          (
            await table.doc.send(
              new GetCommand({ TableName: table.tableName, Key: { pk: `ATT#${id}`, sk: 'ATT' } }),
            )
          ).Item,
      ),
    );
    expect(records.map((r) => [r?.status, r?.rejectedReason])).toEqual([
      ['rejected', 'larger than declared'],
      ['rejected', 'not a valid image'],
    ]);
  });
});
