// The bindings the `workers` project gives its main Worker (wrangler.toml plus test/workers/project.ts), for
// `env` and `exports` from cloudflare:workers.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../../src/runtime/workers.ts');
    durableNamespaces: 'PortcullisState';
  }
  interface Env {
    PORTCULLIS_CONFIG: string;
    PORTCULLIS_STATE: DurableObjectNamespace<import('../../src/runtime/durable-state.ts').PortcullisState>;
    UPSTREAM: Fetcher;
  }
}
