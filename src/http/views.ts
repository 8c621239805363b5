import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';

const viewsDirectory = fileURLToPath(new URL('../../views', import.meta.url));

/** Server-rendered pages; Eta escapes every `<%= %>` interpolation. Forms get `it.csrfToken` (src/http/csrf.ts). */
export function createViews() {
  const eta = new Eta({ views: viewsDirectory, autoEscape: true, cache: true });
  const stylesheet = readFileSync(`${viewsDirectory}/assets/assent.css`);
  return {
    render(ctx: Context, template: string, data: Record<string, unknown>, status = 200) {
      ctx.status = status;
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = eta.render(template, { ...data, csrfToken: ctx.state.csrfToken });
    },
    stylesheet,
  };
}

export type Views = ReturnType<typeof createViews>;
