// Module resolution hook for `npm run bench`. TensorFlow.js ships its gradients only as ES
// module files whose imports leave out ".js" (written for bundlers), which Node refuses to
// load; vitest resolves them like a bundler would. This hook retries such an import of a file
// inside @tensorflow/ with ".js", then "/index.js", and changes nothing else.

/** @type {import("node:module").ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!specifier.startsWith(".") || !context.parentURL?.includes("/node_modules/@tensorflow/")) throw error;
    for (const candidate of [`${specifier}.js`, `${specifier}/index.js`]) {
      try {
        return await nextResolve(candidate, context);
      } catch {
        // try the next form
      }
    }
    throw error;
  }
}
