// Helper types over the generated `paths`, so every call is checked against the spec:
// the path and method must exist, the body and answer have the spec's shapes, and an
// operation's error codes are a union you can `switch` on exhaustively.
import type { components, paths } from './schema.js';

export type { components, paths, operations } from './schema.js';

/** A schema of the spec by name, e.g. `Schema<'MeToday'>`. */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];

/** HTTP methods as the generated types spell them. */
export type LowerMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** HTTP methods as the wire (and `client.request`) spells them. */
export type HttpMethod = Uppercase<LowerMethod>;

type Lower<M extends LowerMethod | HttpMethod> = Lowercase<M> & LowerMethod;

/** The operation behind a path and method; `never` when the path does not serve the method. */
export type Operation<P extends keyof paths, M extends LowerMethod | HttpMethod> = Lower<M> extends keyof paths[P]
  ? NonNullable<paths[P][Lower<M>]>
  : never;

/** Every path that serves method M. */
export type PathsFor<M extends LowerMethod | HttpMethod> = {
  [P in keyof paths]: [Operation<P, M>] extends [never] ? never : P;
}[keyof paths];

type Parameters_<P extends keyof paths, M extends LowerMethod | HttpMethod> = Operation<P, M> extends {
  parameters: infer X;
}
  ? X
  : never;

/** The `{placeholder}` values of the path, or never when it has none. */
export type PathParams<P extends keyof paths, M extends LowerMethod | HttpMethod> = Parameters_<P, M> extends {
  path: infer T;
}
  ? T
  : never;

/** The query parameters of the operation (never when it takes none). */
export type QueryOf<P extends keyof paths, M extends LowerMethod | HttpMethod> = Parameters_<P, M> extends {
  query?: infer Q;
}
  ? Exclude<Q, undefined>
  : never;

/** The JSON request body of the operation. */
export type JsonBody<P extends keyof paths, M extends LowerMethod | HttpMethod> = Operation<P, M> extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

type Responses<P extends keyof paths, M extends LowerMethod | HttpMethod> = Operation<P, M> extends {
  responses: infer R;
}
  ? R
  : never;

type JsonContent<R> = R extends { content: { 'application/json': infer J } } ? J : undefined;

/** The JSON answer of the operation's 2xx responses (`undefined` for a 204). */
export type SuccessOf<P extends keyof paths, M extends LowerMethod | HttpMethod> = {
  [S in keyof Responses<P, M>]: S extends 200 | 201 | 202 | 204 ? JsonContent<Responses<P, M>[S]> : never;
}[keyof Responses<P, M>];

type CodeIn<R> = R extends { content: { 'application/json': infer E } }
  ? E extends { error: { code: unknown } }
    ? E['error']['code']
    : never
  : never;

/** The union of `error.code` over the operation's 4xx/5xx responses (from its `x-error-codes`). */
export type ErrorCodeOf<P extends keyof paths, M extends LowerMethod | HttpMethod> = {
  [S in keyof Responses<P, M>]: `${S & number}` extends `4${string}` | `5${string}` ? CodeIn<Responses<P, M>[S]> : never;
}[keyof Responses<P, M>];

/** Every error code the API knows (the `ErrorCode` catalogue). */
export type AnyErrorCode = Schema<'ErrorCode'>;

/** Options of one call. `params` is required exactly when the path has placeholders. */
export type RequestOptions<P extends keyof paths, M extends LowerMethod | HttpMethod> = {
  query?: QueryOf<P, M>;
  /** Extra headers, e.g. `If-None-Match` or your own `Idempotency-Key`. */
  headers?: Record<string, string>;
  /** Per-request timeout; defaults to the client's. */
  timeoutMs?: number;
} & ([PathParams<P, M>] extends [never] ? { params?: undefined } : { params: PathParams<P, M> });

/** The options argument as a rest tuple: optional when the path has no placeholders. */
export type OptionsArg<P extends keyof paths, M extends LowerMethod | HttpMethod, Extra = unknown> = [
  PathParams<P, M>,
] extends [never]
  ? [options?: RequestOptions<P, M> & Extra]
  : [options: RequestOptions<P, M> & Extra];

/** A whole answer: status, lower-cased headers and the parsed body (`undefined` on 204/304). */
export interface ApiResponse<T> {
  status: number;
  headers: Record<string, string>;
  data: T | undefined;
}
