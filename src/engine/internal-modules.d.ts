// oidc-provider builds its keystore once at construction; key rotation without a restart re-runs this.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: unknown, jwks: { keys: unknown[] }): void;
}
