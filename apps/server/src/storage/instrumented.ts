import { performance } from "node:perf_hooks";
import type { Metrics } from "../observability/metrics.js";
import type { Storage } from "./storage.js";

/**
 * `storage` with every call timed into `parley_storage_seconds{method}` (and rejections counted).
 *
 * A Proxy rather than a class that spells out each method: every method of the interface, present
 * and future, is timed without a list to keep in step, and one a backend adds beyond the interface
 * passes through untouched. Methods are called on the real storage (not the proxy), so a backend's
 * private fields keep working; each method's wrapper and its metric children are made once, on
 * first use.
 */
export function instrumentStorage<S extends Storage>(storage: S, metrics: Metrics): S {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function" || typeof property !== "string" || property === "constructor") return value;
      let wrapper = wrappers.get(property);
      if (!wrapper) {
        const method = value as (...args: unknown[]) => unknown;
        const timer = metrics.storage(property);
        wrapper = (...args: unknown[]): unknown => {
          const startedAt = performance.now();
          const result = method.apply(target, args);
          // Only promises are timed: every Storage method returns one, and anything synchronous a
          // backend adds costs nothing worth a series.
          if (!(result instanceof Promise)) return result;
          return result.then(
            (resolved) => {
              timer.done(startedAt);
              return resolved;
            },
            (error: unknown) => {
              timer.failed(startedAt);
              throw error;
            },
          );
        };
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
