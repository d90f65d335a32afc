/**
 * How every answer writes JSON: as c.json does, except that an infinite number (a trial's value
 * told as "Infinity") is written as the string "Infinity" or "-Infinity", as the OpenAPI document
 * says where one can be, where JSON.stringify would write null. Hono has no hook for c.json's
 * serializer, so this middleware gives each request's context one.
 */
import type { MiddlewareHandler } from 'hono';
import { toJson } from '../lib/values';

export const infinityAnswers: MiddlewareHandler = async (c, next) => {
  c.json = ((object: unknown, arg?: ResponseInit | number, headers?: Record<string, string>) =>
    c.body(toJson(object), arg as never, {
      'Content-Type': 'application/json',
      ...headers,
    })) as unknown as typeof c.json;
  await next();
};
