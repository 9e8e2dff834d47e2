/**
 * Attachment object layout, shared by the CDK stack (grants, lifecycle, notifications), the local cloud
 * (S3 emulator events) and the domain. Uploads land under `pending/` and are moved under `files/` once
 * confirmed; never-confirmed uploads expire by a lifecycle rule on `pending/`.
 */
export const ATTACHMENT_PREFIX = { pending: 'pending/', files: 'files/' } as const;

export const attachmentKey = (
  stage: keyof typeof ATTACHMENT_PREFIX,
  ids: { tenantId: string; chatId: string; attachmentId: string },
): string => `${ATTACHMENT_PREFIX[stage]}${ids.tenantId}/${ids.chatId}/${ids.attachmentId}`;

/** The attachment id of a `pending/<tenant>/<chat>/<attachmentId>` key, if it is one. */
export const pendingAttachmentId = (key: string): string | undefined => {
  const match = /^pending\/[a-z0-9-]+\/ch_[a-z0-9]{20}\/(att_[a-z0-9]{20})$/.exec(key);
  return match?.[1];
};

/** Pending uploads that were never confirmed are removed after this many days. */
export const PENDING_EXPIRY_DAYS = 1;
