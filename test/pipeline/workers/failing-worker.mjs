// Test worker (worker-pool-close.test.ts): fails while loading, as a worker whose native kernels
// or ONNX Runtime binding cannot be loaded would.
throw new Error("cannot load the kernels");
