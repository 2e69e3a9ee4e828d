// The Node.js entry point (`micrograd/node`): what needs the file system.
export * from "./node/datasets.js";
export * from "./node/models.js";
