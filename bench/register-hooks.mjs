// Loaded with `node --import`: installs esm-hooks.mjs (see there why).
import { register } from "node:module";

register("./esm-hooks.mjs", import.meta.url);
