/**
 * ISO 4217 currency codes, as the runtime's Intl knows them. Three capital letters are not enough: an
 * amount or an account in "ABC" names no money anyone can pay or hold.
 */
const ISO_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export const isIsoCurrency = (code: string): boolean => ISO_CURRENCIES.has(code);
