import { z } from 'zod';
import { instantField } from '../admin-instant.ts';
import { exportAuditEvents, verifyAuditChain, verifyAuditTrail } from '../../audit/audit-trail.ts';
import { operation } from '../admin-operation.ts';

const verify = operation({
  name: 'audit:verify',
  summary: "recomputes the audit trail's hash chains (all, or one consent's); the CLI exits 1 on a break",
  method: 'GET',
  path: '/audit/verification',
  input: z.object({ consent: z.uuid().optional().describe("verify only this consent's chain") }),
  async run({ db }, { consent }) {
    if (!consent) {
      const verdict = await verifyAuditTrail(db);
      return { valid: verdict.broken.length === 0, ...verdict };
    }
    const verdict = await verifyAuditChain(db, 'consent', consent);
    return verdict.valid
      ? { valid: true, chains: verdict.length > 0 ? 1 : 0, events: verdict.length, broken: [] }
      : { valid: false, chains: 1, broken: [{ subjectType: 'consent', subjectId: consent, brokenAt: verdict.brokenAt }] };
  },
});

const exportEvents = operation({
  name: 'audit:export',
  summary: "exports one consent's events, or a period's, as JSON Lines with their hashes",
  method: 'GET',
  path: '/audit/events',
  format: 'jsonl',
  input: z
    .object({
      consent: z.uuid().optional(),
      from: instantField('occurred at or after').optional(),
      to: instantField('occurred before').optional(),
      limit: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
    })
    .refine((input) => input.consent !== undefined || input.from !== undefined, {
      message: 'give --consent or --from (and optionally --to)',
    }),
  run: ({ db }, input) =>
    exportAuditEvents(db, {
      ...(input.consent && { subject: { type: 'consent' as const, id: input.consent } }),
      ...(input.from && { from: input.from }),
      ...(input.to && { to: input.to }),
      limit: input.limit,
    }),
});

export const auditOperations = [verify, exportEvents];
