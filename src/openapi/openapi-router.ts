import { Router } from '@koa/router';
import { declaredRoutes } from '../http/declared-routes.ts';
import type { OpenApiDocument } from './document.ts';

/** The one OpenAPI document at `/openapi.json` on the issuer, where clients look for it. */
export function openApiRouter(document: OpenApiDocument) {
  const router = new Router();
  declaredRoutes(router).open('getOpenApiDocument', (ctx) => {
    ctx.set('cache-control', 'public, max-age=300');
    ctx.body = document;
  });
  return router;
}
