/** The server as a library (`flashq-ts`): start one in-process with a config from loadConfig. */
export { Server } from './server.js';
export { loadConfig, ConfigError } from './config.js';
