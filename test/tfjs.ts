// TensorFlow.js on its CPU backend, as the oracle of the gradient tests.
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
// Gradients are registered separately from the ops in tfjs-core.
import "@tensorflow/tfjs-core/dist/register_all_gradients";

export { tf };

/**
 * Test mode, as TensorFlow.js's own tests run: kernels are checked for leaked tensors, and the
 * console stays free of its banner suggesting the native Node backend.
 */
export async function useTfjsCpu(): Promise<void> {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
  await tf.ready();
}
