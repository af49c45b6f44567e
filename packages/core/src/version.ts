/** The running core's version, for plugins' `core` range check. A test keeps it equal to package.json. */
export const CORE_VERSION = '0.1.0';
