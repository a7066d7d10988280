/** The software version recorded in every output's metadata (kept in step with package.json by a test). */
export const SOFTWARE_NAME = "mocksmith";
export const SOFTWARE_VERSION = "0.1.0";
