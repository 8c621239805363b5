import { Router } from '@koa/router';
import { OPENAPI_PATH } from '../protocol/routes.ts';
import type { OpenApiDocument } from './document.ts';

/** The one OpenAPI document at `/openapi.json` on the issuer, where clients look for it. */
export function openApiRouter(document: OpenApiDocument) {
  const router = new Router();
  router.get(OPENAPI_PATH, (ctx) => {
    ctx.set('cache-control', 'public, max-age=300');
    ctx.body = document;
  });
  return router;
}
