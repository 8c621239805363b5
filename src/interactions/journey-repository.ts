import { sql } from 'kysely';
import { customerWithRow } from '../customers/customer-service.ts';
import { type ClientDisplayRow, clientDisplayQuery } from '../tpp/tpp-service.ts';

/** What a page names, read in the activity statement from the interaction's row (the common table `found`). */
export type PageNames = ClientDisplayRow & { named_customer_id: string | null; customer: unknown };

/**
 * The TPP's display and, on the consent prompt, the signed-in customer's (`customer`: null for nobody),
 * as one row, for the interaction in the activity statement's `found`.
 */
export function pageNamesQuery() {
  const interaction = sql<Record<string, unknown>>`(select row->'payload' from found)`;
  const named = sql<
    string | null
  >`case when ${interaction}->'prompt'->>'name' = 'consent' then ${interaction}->'session'->>'accountId' end`;
  return sql<PageNames>`
    select display.*, named.id as named_customer_id, ${customerWithRow(sql.ref('named.id'))} as customer
    from (${clientDisplayQuery(sql<string | null>`${interaction}->'params'->>'client_id'`)}) as display
    cross join (select ${named} as id) as named`;
}
