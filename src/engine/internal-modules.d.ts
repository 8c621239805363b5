// oidc-provider builds its keystore once at construction; key rotation without a restart re-runs this.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: unknown, jwks: { keys: unknown[] }): void;
}

// The provider's private state, where its keystore lives; signing Assent's own JWTs with it keeps one
// set of keys (rotated in one place, published in one JWKS). Its grant handlers live there too.
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  interface InternalKeystore {
    selectForSign(options: { alg: string; use: 'sig' }): (Record<string, unknown> & { kid?: string })[];
  }
  export default function instance(provider: unknown): {
    keystore: InternalKeystore;
    grantTypeHandlers: Map<string, (ctx: never) => Promise<void>>;
  };
}

// The provider's own router; the API inventory test records what the engine mounts through it.
declare module 'oidc-provider/lib/helpers/router.js' {
  export default class Router {
    get(name: string, path: string, ...middleware: unknown[]): this;
    post(name: string, path: string, ...middleware: unknown[]): this;
    put(name: string, path: string, ...middleware: unknown[]): this;
    delete(name: string, path: string, ...middleware: unknown[]): this;
    options(name: string, path: string, ...middleware: unknown[]): this;
  }
}

// Checks a request's DPoP proof (its nonce included) once, keeping the result for the handlers' later calls.
declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  export default function validateDpop(provider: unknown, ctx: unknown, accessToken?: string): Promise<{ thumbprint: string } | undefined>;
}
