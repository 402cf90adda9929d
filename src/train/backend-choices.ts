// The backend names, without importing TensorFlow.js (the CLI lists them in help text, and
// loading tfjs costs about a second: only the commands that compute import it).
export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The optional packages training and prediction need (package.json optionalDependencies). */
export const TFJS_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;
