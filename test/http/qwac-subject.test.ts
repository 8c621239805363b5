import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { X509Certificate as ParsedCertificate } from '@peculiar/x509';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';
import { InvalidDistinguishedName, parseDistinguishedName } from '../../src/http/distinguished-name.ts';
import { PSD2_ROLES, QC_STATEMENTS_OID } from '../../src/http/psd2-qc-statements.ts';
import { certificateSubjectMatches } from '../../src/http/certificate-subject.ts';
import { saveClient } from '../../src/store/clients.ts';
import { tlsAgent } from '../support/assent.ts';
import { callRegistration, dpopClientMetadata, issueSsa } from '../support/onboarding.ts';
import { fetchVia } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

const ORGANIZATION_ID = 'PSDGB-FCA-123456';
const QWAC_SUBJECT = `CN=Acme PISP,organizationIdentifier=${ORGANIZATION_ID},O=Acme Payments Ltd,C=GB`;

/** Whether the DER carries the OID's content octets (base 128 per arc, the first two arcs in one byte). */
function containsOid(der: ArrayBuffer, dotted: string) {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const octets = [40 * first + second];
  for (const arc of rest) {
    const digits = [];
    for (let value = arc; digits.length === 0 || value > 0; value = Math.floor(value / 128)) digits.unshift(value % 128);
    octets.push(...digits.map((digit, index) => (index < digits.length - 1 ? digit | 0x80 : digit)));
  }
  return Buffer.from(der).includes(Buffer.from(octets));
}

describe('eIDAS QWAC subjects (organizationIdentifier, 2.5.4.97) for tls_client_auth', () => {
  let qwac: PemPair;

  const assent = useAssent();
  before(async () => {
    qwac = await issueCertificate(assent.ca, {
      subject: QWAC_SUBJECT,
      usage: 'client',
      psd2: { roles: ['PSP_PI', 'PSP_AI'], ncaName: 'Financial Conduct Authority', ncaId: 'GB-FCA' },
    });
  });

  test('the dev CA issues a QWAC-shaped certificate: organizationIdentifier and the PSD2 roles', () => {
    const parsed = new ParsedCertificate(qwac.certPem);
    assert.deepEqual(parsed.subjectName.getField('2.5.4.97'), [ORGANIZATION_ID]);
    const statements = parsed.getExtension(QC_STATEMENTS_OID);
    assert.ok(statements, 'qcStatements present');
    assert.ok(containsOid(statements.value, '0.4.0.19495.2'), 'the PSD2 QC statement');
    assert.ok(containsOid(statements.value, PSD2_ROLES.PSP_PI) && containsOid(statements.value, PSD2_ROLES.PSP_AI), 'the TPP roles');
  });

  test('a registered DN matches whether it names the attribute, gives its OID, or uses another case or order', () => {
    const certificate = new X509Certificate(qwac.certPem);
    const matches = (dn: string) => certificateSubjectMatches(certificate, 'tls_client_auth_subject_dn', dn);
    assert.ok(matches(QWAC_SUBJECT));
    assert.ok(matches(`2.5.4.97=${ORGANIZATION_ID},CN=Acme PISP,O=Acme Payments Ltd,C=GB`));
    assert.ok(matches(`OID.2.5.4.97=${ORGANIZATION_ID}, CN=Acme PISP, O=Acme Payments Ltd, C=GB`));
    assert.ok(matches(`c=gb, o=acme payments ltd, organizationidentifier=${ORGANIZATION_ID.toLowerCase()}, cn=acme pisp`));
    assert.ok(!matches('CN=Acme PISP,organizationIdentifier=PSDGB-FCA-999999,O=Acme Payments Ltd,C=GB'), 'another authorisation number');
    assert.ok(!matches('CN=Acme PISP,O=Acme Payments Ltd,C=GB'), 'the organizationIdentifier is part of the subject');
    assert.ok(!matches('CN=Acme PISP,madeUpAttribute=x'), 'an unknown attribute type never matches, and does not throw');
    assert.throws(() => parseDistinguishedName('CN=Acme\\'), InvalidDistinguishedName);
    assert.deepEqual(parseDistinguishedName('CN=Acme\\, Inc+O="Q, Ltd",C=G\\42'), [
      [
        { type: '2.5.4.3', value: 'Acme, Inc' },
        { type: '2.5.4.10', value: 'Q, Ltd' },
      ],
      [{ type: '2.5.4.6', value: 'GB' }],
    ]);
  });

  test('a TPP registered with its QWAC subject gets a certificate-bound token over real mTLS; another authorisation number does not', async () => {
    const register = (clientId: string, dn: string) =>
      saveClient(assent.db, {
        client_id: clientId,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: dn,
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'accounts',
      });
    await register('qwac-tpp', `organizationIdentifier=${ORGANIZATION_ID},CN=Acme PISP,O=Acme Payments Ltd,C=GB`);
    await register('other-tpp', 'organizationIdentifier=PSDGB-FCA-999999,CN=Acme PISP,O=Acme Payments Ltd,C=GB');
    const agent = tlsAgent(assent.ca.certPem, qwac);
    const token = (clientId: string) =>
      fetch(`https://localhost:${assent.port}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, scope: 'accounts' }).toString(),
        dispatcher: agent,
      });

    const granted = await token('qwac-tpp');
    const body = (await granted.json()) as { access_token: string };
    assert.equal(granted.status, 200, JSON.stringify(body));
    const introspection = await fetch(`https://localhost:${assent.port}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: body.access_token, client_id: 'qwac-tpp' }).toString(),
      dispatcher: agent,
    });
    const introspected = (await introspection.json()) as { active: boolean; cnf: Record<string, string> };
    assert.equal(introspected.active, true);
    assert.equal(introspected.cnf['x5t#S256'], createHash('sha256').update(new X509Certificate(qwac.certPem).raw).digest('base64url'));

    const refused = await token('other-tpp');
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client');
  });

  test('dynamic registration over mTLS with the QWAC: the DN may name organizationIdentifier by OID; an unparseable DN is refused', async () => {
    const kit = await issueSsa(assent);
    const agent = tlsAgent(assent.ca.certPem, qwac);
    const tlsMetadata = {
      token_endpoint_auth_method: 'tls_client_auth',
      token_endpoint_auth_signing_alg: undefined,
      dpop_bound_access_tokens: undefined,
      tls_client_certificate_bound_access_tokens: true,
    };
    const garbled = await callRegistration(assent, agent, {
      json: dpopClientMetadata(kit, { ...tlsMetadata, tls_client_auth_subject_dn: 'CN=Acme PISP,madeUpAttribute=1' }),
    });
    assert.equal(garbled.status, 400);
    assert.equal(garbled.body.error, 'invalid_client_metadata');
    assert.match(String(garbled.body.error_description), /RFC 4514/);

    const registered = await callRegistration(assent, agent, {
      json: dpopClientMetadata(kit, {
        ...tlsMetadata,
        tls_client_auth_subject_dn: `2.5.4.97=${ORGANIZATION_ID}, CN=Acme PISP, O=Acme Payments Ltd, C=GB`,
      }),
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const config = new oidc.Configuration(
      (await oidc.discovery(new URL(assent.issuer), 'x', undefined, undefined, { [oidc.customFetch]: fetchVia(agent) })).serverMetadata(),
      String(registered.body.client_id),
      {},
      oidc.TlsClientAuth(),
    );
    config[oidc.customFetch] = fetchVia(agent);
    const granted = await oidc.clientCredentialsGrant(config, { scope: 'payments' });
    assert.ok((await oidc.tokenIntrospection(config, granted.access_token)).cnf, 'a certificate-bound token');
  });
});
