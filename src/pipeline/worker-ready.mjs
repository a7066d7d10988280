// Start-up handshake of the pool workers (./worker-pool.ts). A worker thread terminated while it
// is still loading its modules can take the whole process down: ONNX Runtime's binding, stopped
// in its registration, throws a C++ Napi::Error that nothing can catch (std::terminate,
// SIGABRT), and Node can hit a fatal V8 error mid-import ("ToLocalChecked Empty MaybeLocal" in
// require(esm)'s module facade, which is built after the module's top level has run). So every
// worker module calls announceReady() as the last statement of its top level, the message goes
// out only once the loader is done with the module (setImmediate: after the synchronous require
// or the import's continuations), and the pool waits for it before it terminates its threads.
import { setImmediate } from "node:timers";
import { parentPort, threadId } from "node:worker_threads";

/** Key of the message a worker posts once its modules are loaded; its value is the threadId. */
export const WORKER_READY = "mocksmithWorkerReady";

/** Posts { [WORKER_READY]: threadId } to the pool (piscina re-emits it as a 'message' event). */
export function announceReady() {
  setImmediate(() => parentPort?.postMessage({ [WORKER_READY]: threadId }));
}
