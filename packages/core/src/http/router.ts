/**
 * A plugin's HTTP routes: an OpenAPIHono sub-app whose every route declares who may call it. `route()` takes
 * the zod request/response schemas (one schema for validation, types and OpenAPI); `raw()` is for bodies zod
 * should not parse (webhooks that need the raw bytes, HTML pages). A route registered any other way has no
 * access declaration and start-up fails, naming it.
 */
import { createRoute, OpenAPIHono, type RouteConfig, type RouteHandler, z } from '@hono/zod-openapi';
import type { Handler, MiddlewareHandler } from 'hono';
import type { Access } from '../access/principals.js';
import { httpErrors, RgzError } from '../errors/rgz-error.js';
import type { AppEnv } from './app-env.js';
import { validationProblem } from './problem.js';

export type RgzRouteConfig = RouteConfig & { access: Access };

/** OpenAPI response entry for a JSON body: `responses: { 200: jsonContent(Schema, 'The plan') }`. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description };
}

/** OpenAPI response entry for an error: every RGZ error is problem+json with at least `code` and `title`. */
export function problemContent(description: string) {
  return {
    content: { 'application/problem+json': { schema: z.object({ code: z.string(), title: z.string() }).passthrough() } },
    description,
  };
}

/** `request: { params: UuidIdParam }` for a `/{id}` path whose id is a UUID (a malformed one is a 400, not a 404). */
export const UuidIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' } }),
});

/** `createRoute` plus the mandatory access declaration. */
export function defineRoute<R extends RgzRouteConfig>(config: R): R {
  if (!('access' in (config as object)))
    throw new RgzError(
      'route_access_missing',
      `route ${String((config as RouteConfig).method).toUpperCase()} ${(config as RouteConfig).path} declares no access`,
    );
  const security = config.access === 'public' ? [] : [{ bearer: [] }];
  return createRoute({ ...config, security, 'x-rgz-access': config.access } as R);
}

export interface RawRouteConfig {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  access: Access;
  summary: string;
  tags?: string[];
  /** Documented response content type (default application/json). */
  contentType?: string;
}

export function accessMiddleware(access: Access): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const services = c.get('services');
    if (access === 'public') {
      const principal = await services.principal();
      c.set('principal', principal);
      c.set('db', services.scopedDb(principal));
      return next();
    }
    const principal = await services.principal();
    if (!principal) throw httpErrors.unauthorized('A valid bearer token is required (Authorization: Bearer rgz_…)');
    if (!access.includes(principal.role)) throw httpErrors.forbidden(`This route is for ${access.join(', ')}; you are ${principal.role}`);
    c.set('principal', principal);
    c.set('db', services.scopedDb(principal));
    return next();
  };
}

export class PluginRouter extends OpenAPIHono<AppEnv> {
  /** `METHOD path` → access, for every route declared through `route()` or `raw()`. */
  readonly declared = new Map<string, Access>();

  constructor() {
    super({
      defaultHook: (result, c) => {
        if (!result.success) return validationProblem(c as never, result.error as never, (result as { target?: string }).target ?? 'request');
      },
    });
  }

  /** Register a route made with `defineRoute`: validation, types and OpenAPI come from its schemas. */
  add<R extends RgzRouteConfig>(config: R, handler: RouteHandler<R, AppEnv>): this {
    if (!config || !('access' in config)) throw new RgzError('route_access_missing', 'add() needs a config made with defineRoute({ …, access })');
    this.declared.set(`${config.method.toUpperCase()} ${config.path.replace(/\{(\w+)\}/g, ':$1')}`, config.access);
    const middleware = [accessMiddleware(config.access), ...toArray(config.middleware)];
    this.openapi({ ...config, middleware } as never, handler as never);
    return this;
  }

  /** Register a route whose body the handler reads itself (raw webhooks, HTML, files). */
  raw(config: RawRouteConfig, handler: Handler<AppEnv>): this {
    this.declared.set(`${config.method.toUpperCase()} ${config.path}`, config.access);
    const openapiPath = config.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    this.openAPIRegistry.registerPath({
      method: config.method,
      path: openapiPath,
      summary: config.summary,
      tags: config.tags,
      security: config.access === 'public' ? [] : [{ bearer: [] }],
      responses: { 200: { description: 'OK', content: { [config.contentType ?? 'application/json']: { schema: {} } } } },
      'x-rgz-access': config.access,
    } as never);
    this.on(config.method.toUpperCase(), config.path, accessMiddleware(config.access), handler);
    return this;
  }

  /** Every registered method+path without a declaration (checked at start-up). */
  undeclared(): string[] {
    return this.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`)
      .filter((key) => !this.declared.has(key));
  }
}

function toArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
