import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { de } from '../../src/wording/catalogue-de.ts';
import { en } from '../../src/wording/catalogue-en.ts';
import { customerErrorKey } from '../../src/wording/error-wording.ts';
import { fromAcceptLanguage, negotiateLocale } from '../../src/wording/locale.ts';
import { translate } from '../../src/wording/messages.ts';
import { permissionWording } from '../../src/wording/permissions.ts';
import { wordingFor } from '../../src/wording/wording.ts';

const branding = loadConfig({}).branding;
const english = wordingFor('en', branding);
const german = wordingFor('de', branding);
const placeholders = (sentence: string) => [...new Set([...sentence.matchAll(/\{(\w+)\}/g)].map((match) => match[1]))].toSorted();

describe("times in the bank's zone", () => {
  test('German names the zone as English does (GMT, BST), never an offset such as "GMT+0"', () => {
    assert.equal(branding.timeZone, 'Europe/London');
    assert.equal(german.when(new Date('2026-12-07T10:00:00Z')), '7. Dezember 2026 um 10:00 GMT');
    assert.equal(german.when(new Date('2026-07-07T10:00:00Z')), '7. Juli 2026 um 11:00 BST');
    assert.equal(german.time(new Date('2026-12-07T10:00:00Z')), '10:00 GMT');
    assert.equal(
      wordingFor('de', { ...branding, timeZone: 'Europe/Berlin' }).when(new Date('2026-12-07T10:00:00Z')),
      '7. Dezember 2026 um 11:00 MEZ',
      'a zone German names keeps its German name',
    );
  });
});

describe('message catalogues', () => {
  test('German has every English key with the same placeholders', () => {
    assert.deepEqual(Object.keys(de).toSorted(), Object.keys(en).toSorted());
    for (const [key, sentence] of Object.entries(en)) {
      assert.deepEqual(placeholders(de[key as keyof typeof de]), placeholders(sentence), `placeholders of ${key}`);
    }
  });

  test('no German sentence is the English one copied (names, codes and formats excepted)', () => {
    const sameInBothLanguages = new Set([
      'language.switch',
      'account.iban',
      'account.bic',
      'payment.currencyNamed',
      'consent.accountChoice',
      'dash.payeeWithAccount',
      'dash.stop.item',
      'dash.who.tpp',
      'dash.who.bank',
      'dash.fact.status',
    ]);
    const copied = Object.keys(en).filter(
      (key) =>
        !sameInBothLanguages.has(key) &&
        de[key as keyof typeof de] === en[key as keyof typeof en] &&
        /[a-z]{3}/.test(en[key as keyof typeof en]),
    );
    assert.deepEqual(copied, []);
  });

  test('a sentence with a link: only the link is markup; the words, every name and the address are escaped', () => {
    const hostileBank = wordingFor('en', { ...branding, bankName: '<script>alert("bank")</script>' });
    const html = hostileBank.sentenceWithLink(
      'layout.support',
      {},
      { placeholder: 'contact', href: 'https://bank.example/help?a=1&b="x"', text: '<b>help</b>' },
    );
    assert.equal(
      html,
      'Need help? Contact &lt;script&gt;alert(&quot;bank&quot;)&lt;/script&gt;: <a href="https://bank.example/help?a=1&amp;b=&quot;x&quot;">&lt;b&gt;help&lt;/b&gt;</a>',
    );
    const inGerman = wordingFor('de', branding).sentenceWithLink(
      'logout.bodyFor',
      { tpp: "O'Neil <img src=x onerror=alert(1)>" },
      { placeholder: 'dashboard', href: 'https://bank.example/dashboard' },
    );
    assert.equal(
      inGerman,
      'O&#39;Neil &lt;img src=x onerror=alert(1)&gt; hat darum gebeten, Sie abzumelden. Die Abmeldung beendet Ihre Anmeldung auf diesem Gerät. Ihre erteilten Einwilligungen bleiben unverändert: Sie können sie unter <a href="https://bank.example/dashboard">https://bank.example/dashboard</a> einsehen und beenden.',
    );
    assert.equal(
      english
        .sentenceWithLink('consent.stopLater', { tpp: '{dashboard}' }, { placeholder: 'dashboard', href: 'https://bank.example/dashboard' })
        .match(/<a /g)?.length,
      1,
      'a name that looks like a placeholder stays a name',
    );
  });

  test('a key no catalogue has shows itself, marked, and unknown placeholders stay visible', () => {
    assert.equal(translate('en', 'no.such.key'), '⟦no.such.key⟧');
    assert.equal(translate('de', 'consent.signedInAs', { name: 'Ada' }), 'Angemeldet als Ada.');
    assert.equal(translate('en', 'consent.signedInAs'), 'Signed in as {name}.');
  });

  test('every read scope has wording in both languages; an unknown one is shown as its code', () => {
    assert.equal(permissionWording(german, 'balances').title, 'Ihre Kontostände');
    assert.deepEqual(permissionWording(english, 'something.new'), {
      title: 'something.new',
      detail: `A permission this page does not describe yet. Ask ${branding.bankName} what it allows.`,
    });
  });

  test("errors are worded by class or code, never by the library's description", () => {
    assert.equal(customerErrorKey({ name: 'InvalidRequestUri', error: 'invalid_request_uri' }), 'error.linkExpired');
    assert.equal(customerErrorKey({ name: 'SessionNotFound', error: 'invalid_request' }), 'error.sessionLost');
    assert.equal(customerErrorKey({ error: 'invalid_client' }), 'error.clientUnknown');
    assert.equal(customerErrorKey({ error: 'something_new' }), 'error.invalidRequest');
  });
});

describe("the customer's language", () => {
  test('Accept-Language by quality, the first language spoken here wins; else English', () => {
    assert.equal(fromAcceptLanguage('fr-FR, de;q=0.8, en;q=0.5'), 'de');
    assert.equal(fromAcceptLanguage('en-GB;q=0.4, de-AT;q=0.9'), 'de');
    assert.equal(fromAcceptLanguage('fr, es'), undefined);
    assert.equal(fromAcceptLanguage('de;q=0'), undefined);
    assert.equal(negotiateLocale({ query: undefined, cookie: undefined, acceptLanguage: 'fr' }), 'en');
  });

  test('the switch beats the cookie, the cookie beats the browser; nonsense is ignored', () => {
    assert.equal(negotiateLocale({ query: 'en', cookie: 'de', acceptLanguage: 'de' }), 'en');
    assert.equal(negotiateLocale({ query: undefined, cookie: 'de', acceptLanguage: 'en' }), 'de');
    assert.equal(negotiateLocale({ query: ['de', 'en'], cookie: 'xx', acceptLanguage: 'en' }), 'en');
  });
});

describe('one format for money, dates and accounts', () => {
  test("amounts are the consent's decimal string, exact, in the customer's convention", () => {
    assert.equal(english.money('165.88', 'GBP'), '£165.88');
    assert.equal(english.money('10', 'GBP'), '£10.00');
    assert.equal(english.money('12345678901234567.99', 'GBP'), '£12,345,678,901,234,567.99', 'no float rounding');
    assert.equal(english.money('0.125', 'EUR'), '€0.125', 'never fewer digits than the amount has');
    assert.equal(german.money('1234.5', 'EUR'), '1.234,50\u00a0€');
  });

  test("a customer's account is its name and last four digits; a payee's number is shown in full", () => {
    assert.equal(english.accountLabel({ name: 'Everyday', identification: '08080021325698' }), 'Everyday (ending 5698)');
    assert.equal(german.accountLabel({ name: null, identification: '08080021325698' }), 'Konto, endet auf 5698');
    assert.equal(english.accountNumber('sort_code_account', '08080021325698'), 'sort code 08-08-00, account 21325698');
    assert.equal(english.accountNumber('iban', 'GB29NWBK60161331926819'), 'IBAN GB29 NWBK 6016 1331 9268 19');
  });

  test("dates in the bank's time zone, months written out", () => {
    const date = new Date('2026-06-30T23:30:00Z');
    assert.equal(english.day(date), '1 July 2026', 'London is an hour ahead in summer');
    assert.equal(german.day(date), '1. Juli 2026');
    assert.equal(wordingFor('en', { ...branding, timeZone: 'UTC' }).day(date), '30 June 2026');
  });
});

describe('branding configuration', () => {
  test('defaults, and every setting read from BANK_*', () => {
    assert.equal(branding.bankName, 'Assent Demo Bank');
    const custom = loadConfig({
      BANK_NAME: 'Nordwind Bank',
      BANK_LOGO_URL: '/assets/logo.svg',
      BANK_COLOUR_PRIMARY: '#5a1f6e',
      BANK_SUPPORT_CONTACT: '0800 123 4567',
      BANK_SUPPORT_URL: 'https://bank.example/help',
      BANK_TIME_ZONE: 'Europe/Berlin',
    }).branding;
    assert.deepEqual(custom, {
      bankName: 'Nordwind Bank',
      logoUrl: '/assets/logo.svg',
      colours: { primary: '#5a1f6e', onPrimary: '#ffffff', accent: '#f0b400' },
      supportContact: '0800 123 4567',
      supportUrl: 'https://bank.example/help',
      timeZone: 'Europe/Berlin',
    });
  });

  test('refused: unreadable colour pairs, colours that are not #rrggbb, http logos, unknown time zones', () => {
    assert.throws(
      () => loadConfig({ BANK_COLOUR_PRIMARY: '#f5f5f5' }),
      (error: Error) => error instanceof ConfigError && /4\.5:1/.test(error.message),
    );
    assert.throws(() => loadConfig({ BANK_COLOUR_PRIMARY: 'purple' }), /BANK_COLOUR_PRIMARY:? expected a colour as #rrggbb/);
    assert.throws(() => loadConfig({ BANK_LOGO_URL: 'http://bank.example/logo.png' }), /BANK_LOGO_URL:? expected an https URL/);
    assert.throws(() => loadConfig({ BANK_TIME_ZONE: 'Mars/Olympus' }), /BANK_TIME_ZONE:? expected an IANA time zone/);
  });
});
