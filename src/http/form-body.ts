import type { Context } from 'koa';
import { AssentError } from '../protocol/assent-error.ts';
import { BodyTooLarge, readRequestBody } from './request-body.ts';

export class BodyError extends AssentError {
  override name = 'BodyError';
  constructor(status: number, message: string) {
    super('request_body_invalid', message, { status });
  }
}

const FORM_LIMIT = 16 * 1024;

const parsed = new WeakMap<Context, Promise<Record<string, string>>>();

/**
 * Reads an urlencoded form of at most 16 KiB; each field keeps only its first value. The body is read
 * once per request, so a middleware (CSRF) and the handler can both ask for it.
 */
export function readForm(ctx: Context): Promise<Record<string, string>> {
  let form = parsed.get(ctx);
  if (!form) {
    form = parseForm(ctx);
    parsed.set(ctx, form);
  }
  return form;
}

async function parseForm(ctx: Context): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new BodyError(415, 'expected an application/x-www-form-urlencoded form');
  const body = await readRequestBody(ctx).catch((error: unknown) => {
    throw error instanceof BodyTooLarge ? new BodyError(413, 'form too large') : error;
  });
  if (body.length > FORM_LIMIT) throw new BodyError(413, 'form too large');
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    if (!Object.hasOwn(form, key)) form[key] = value;
  }
  return form;
}
