/**
 * The one place that brings a TF.js backend up inside workerd.
 *
 * Order of preference: the WASM backend with SIMD, the plain WASM build, then
 * TF.js's pure-JS CPU backend. `ensureBackend()` reports which one runs; the
 * API passes that on as `backend` so a silent fallback is visible to callers
 * (and a test fails if the SIMD build stops loading).
 *
 * Why the hooks below exist:
 * - workerd forbids compiling WebAssembly from bytes at run time. The `.wasm`
 *   files are imported as compiled `WebAssembly.Module`s (wrangler's
 *   CompiledWasm rule) and handed to the Emscripten loader.
 * - tfjs-backend-wasm loads its binary through `setWasmPaths(map, true)`:
 *   it fetches the path through the TF.js platform and then calls
 *   `WebAssembly.instantiate(bytes, imports)`, expecting `{instance, module}`.
 *   We answer that fetch with the precompiled Module, and, while the backend
 *   initialises, let `WebAssembly.instantiate` accept a Module and answer in
 *   the `{instance, module}` shape that bytes would have produced.
 * - The Emscripten loader decides it runs in Node when `process.versions.node`
 *   exists (as it does under `nodejs_compat`, which the test pool turns on)
 *   and then reaches for `require('fs')` and `__dirname`. While the backend
 *   initialises, `process.versions` is hidden, so it takes its plain path.
 * - No threads in a Worker: the threaded build is never chosen.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm';
import type { BackendName } from '../contract/names';

export type { BackendName };

const MODULE_URLS: Record<string, WebAssembly.Module> = {
  'stride:tfjs-backend-wasm-simd.wasm': simdWasm,
  'stride:tfjs-backend-wasm.wasm': plainWasm,
};

const INIT_TIMEOUT_MS = 10_000;

let ready: Promise<BackendName> | null = null;

/** Initialise once per isolate; later calls return the same answer. */
export function ensureBackend(): Promise<BackendName> {
  ready ??= init();
  return ready;
}

async function init(): Promise<BackendName> {
  // Production mode skips TF.js's debug-time checks (and its warning when we
  // replace the platform it detected).
  tf.enableProdMode();
  installPlatform();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (await tryWasm(true)) return 'wasm-simd';
  if (await tryWasm(false)) return 'wasm';
  await tf.setBackend('cpu');
  return 'cpu';
}

async function tryWasm(simd: boolean): Promise<boolean> {
  tf.env().set('WASM_HAS_SIMD_SUPPORT', simd);
  setWasmPaths(
    {
      'tfjs-backend-wasm-simd.wasm': 'stride:tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm.wasm': 'stride:tfjs-backend-wasm.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm': 'stride:unavailable',
    },
    true,
  );
  const restore = patchInstantiate();
  try {
    // A module that fails to instantiate inside tfjs's loader leaves its
    // promise pending forever; do not wait on it past the timeout.
    return await Promise.race([
      tf.setBackend('wasm'),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), INIT_TIMEOUT_MS)),
    ]);
  } catch {
    return false;
  } finally {
    restore();
  }
}

/** A TF.js platform that serves the precompiled modules by URL. */
function installPlatform(): void {
  const encoder = new TextEncoder();
  tf.setPlatform('workerd', {
    fetch: (path: string, init?: RequestInit) => {
      const module = MODULE_URLS[path];
      if (module) {
        return Promise.resolve({
          ok: true,
          arrayBuffer: async () => module,
        } as unknown as Response);
      }
      return fetch(path, init);
    },
    now: () => performance.now(),
    encode: (text: string) => encoder.encode(text),
    decode: (bytes: Uint8Array, encoding: string) => new TextDecoder(encoding).decode(bytes),
    isTypedArray: (a: unknown): a is Float32Array | Int32Array | Uint8Array | Uint8ClampedArray =>
      a instanceof Float32Array ||
      a instanceof Int32Array ||
      a instanceof Uint8Array ||
      a instanceof Uint8ClampedArray,
  });
}

/**
 * While the backend initialises: `WebAssembly.instantiate(module)` answers
 * `{instance, module}` like the bytes overload, and `process.versions.node`
 * is hidden from the Emscripten environment check (only `versions`: other
 * code running meanwhile may still use `process`). Returns the undo.
 */
function patchInstantiate(): () => void {
  const wasm = WebAssembly as unknown as { instantiate: (...args: unknown[]) => Promise<unknown> };
  const original = wasm.instantiate;
  wasm.instantiate = (source: unknown, imports?: unknown) => {
    if (source instanceof WebAssembly.Module) {
      return (original.call(WebAssembly, source, imports) as Promise<WebAssembly.Instance>).then(
        (instance) => ({
          instance,
          module: source,
        }),
      );
    }
    return original.call(WebAssembly, source, imports);
  };
  const proc = (globalThis as { process?: object }).process;
  const own = proc ? Object.getOwnPropertyDescriptor(proc, 'versions') : undefined;
  let hidden = false;
  if (proc && 'versions' in proc) {
    try {
      Object.defineProperty(proc, 'versions', {
        value: undefined,
        configurable: true,
        writable: true,
      });
      hidden = true;
    } catch {
      // Not configurable: the loader will take its Node path and fail; we fall back.
    }
  }
  return () => {
    wasm.instantiate = original;
    if (hidden && proc) {
      if (own) Object.defineProperty(proc, 'versions', own);
      else delete (proc as { versions?: unknown }).versions;
    }
  };
}
