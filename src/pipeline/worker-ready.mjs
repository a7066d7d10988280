// Start-up handshake of the pool workers (./worker-pool.ts). A worker thread terminated while it
// is still loading its modules can take the whole process down: ONNX Runtime's binding, stopped
// in its registration, throws a C++ Napi::Error that nothing can catch (std::terminate,
// SIGABRT), and V8 can hit a fatal error mid-import. So every worker module announces, as the
// last statement of its top level (after all its imports), that it has started, and the pool
// waits for that before it terminates its threads.
import { parentPort, threadId } from "node:worker_threads";

/** Key of the message a worker posts once its modules are loaded; its value is the threadId. */
export const WORKER_READY = "mocksmithWorkerReady";

/** Posts { [WORKER_READY]: threadId } to the pool (piscina re-emits it as a 'message' event). */
export function announceReady() {
  parentPort?.postMessage({ [WORKER_READY]: threadId });
}
