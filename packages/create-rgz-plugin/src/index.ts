/** create-rgz-plugin as a library: `generate()` is what the CLI runs (an `rgz plugin new` command can call it too). */
export {
  GenerateError,
  type GenerateOptions,
  type GenerateResult,
  generate,
  installedCoreVersion,
  packageJson,
  TEMPLATES_DIR,
  validateName,
  validatePoint,
} from './generate.js';
export { type Io, main, USAGE } from './main.js';
export { isPointKey, POINT_KEYS, POINTS, type PointInfo, type PointKey } from './points.js';
export { CORE_RANGE_FALLBACK, INITIAL_VERSION, TOOL_RANGES } from './versions.js';
