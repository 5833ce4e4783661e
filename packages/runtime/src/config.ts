/** One configuration problem per variable; ConfigError lists them all at once. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}
export const isConfigError = (err: unknown): err is ConfigError => err instanceof ConfigError;

/** How one environment variable is read: parse returns the value or throws a reason. */
export interface VarSpec<T> {
  readonly kind: string;
  readonly default?: T;
  readonly optional?: boolean;
  readonly secret?: boolean;
  readonly doc: string;
  parse(raw: string): T;
}

type Opts<T> = { default?: T; optional?: boolean; secret?: boolean; doc: string };

function spec<T, O extends Opts<T>>(kind: string, parse: (raw: string) => T, o: O): VarSpec<T> & O {
  return { kind, parse, ...o };
}

export const env = {
  string: <O extends Opts<string> & { minLength?: number }>(o: O) =>
    spec(
      'string',
      (raw) => {
        if (o.minLength && raw.length < o.minLength) throw new Error(`must be at least ${o.minLength} characters`);
        return raw;
      },
      o,
    ),
  url: <O extends Opts<string> & { protocols?: string[] }>(o: O) =>
    spec(
      'url',
      (raw) => {
        const u = new URL(raw);
        if (o.protocols && !o.protocols.includes(u.protocol.replace(':', ''))) throw new Error(`must use ${o.protocols.join(' or ')}`);
        return raw.replace(/\/+$/, '');
      },
      o,
    ),
  /** One URL, or several comma-separated (every node of a cluster), each checked like `url`. */
  urls: <O extends Opts<string> & { protocols?: string[] }>(o: O) =>
    spec(
      'url list',
      (raw) =>
        raw
          .split(',')
          .map((part) => env.url(o).parse(part.trim()))
          .join(','),
      o,
    ),
  int: <O extends Opts<number> & { min?: number; max?: number }>(o: O) =>
    spec(
      'integer',
      (raw) => {
        if (!/^-?\d+$/.test(raw.trim())) throw new Error('must be an integer');
        const n = Number(raw);
        if (o.min !== undefined && n < o.min) throw new Error(`must be ≥ ${o.min}`);
        if (o.max !== undefined && n > o.max) throw new Error(`must be ≤ ${o.max}`);
        return n;
      },
      o,
    ),
  /** One integer variable per entry of `defs` (name → options), e.g. the platform's LIMITS from @reel/vocabulary. */
  ints: <D extends Record<string, Opts<number> & { min?: number; max?: number }>>(defs: D) =>
    Object.fromEntries(Object.entries(defs).map(([name, o]) => [name, env.int(o)])) as { [K in keyof D]: VarSpec<number> & D[K] },
  bool: <O extends Opts<boolean>>(o: O) =>
    spec(
      'boolean',
      (raw) => {
        if (/^(1|true|yes|on)$/i.test(raw)) return true;
        if (/^(0|false|no|off)$/i.test(raw)) return false;
        throw new Error('must be true or false');
      },
      o,
    ),
  oneOf: <const V extends string, O extends Opts<V>>(values: readonly V[], o: O) =>
    spec<V, O>(
      values.join('|'),
      (raw) => {
        if (!values.includes(raw as V)) throw new Error(`must be one of ${values.join(', ')}`);
        return raw as V;
      },
      o,
    ),
};

export type ConfigSpec = Record<string, VarSpec<unknown>>;
export type ConfigOf<S extends ConfigSpec> = {
  readonly [K in keyof S]: S[K] extends VarSpec<infer T> ? (S[K]['optional'] extends true ? T | undefined : T) : never;
};

/**
 * Reads every variable of `spec` from `source` (process.env in main.ts), and returns a frozen
 * config, or throws one ConfigError listing every problem. Empty strings count as unset.
 */
export function loadConfig<S extends ConfigSpec>(spec: S, source: Record<string, string | undefined>): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, v] of Object.entries(spec)) {
    const raw = source[name];
    if (raw === undefined || raw === '') {
      if (v.default !== undefined) out[name] = v.default;
      else if (!v.optional) problems.push(`${name} is required (${v.doc})`);
      continue;
    }
    try {
      out[name] = v.parse(raw);
    } catch (err) {
      problems.push(`${name} ${(err as Error).message}${v.secret ? '' : ` (got "${raw.slice(0, 80)}")`}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

/** Every app talks to NATS. */
export const natsSpec = {
  NATS_URL: env.urls({ default: 'nats://127.0.0.1:4222', protocols: ['nats', 'tls', 'ws', 'wss'], doc: 'NATS server URL(s), comma-separated' }),
  NATS_STREAM_REPLICAS: env.int({ default: 1, min: 1, max: 5, doc: 'JetStream replicas of the video stream (3 on a cluster)' }),
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent'], { default: 'info', doc: 'pino log level' }),
} as const;
