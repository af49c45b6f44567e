/**
 * Extension points of `@rgz/core`: the contracts plugins implement and `contribute`, and the flows `collect`.
 * Each point's implementations are keyed by their instance id from config.
 */

export * from './backup-target.js';
export * from './common.js';
export * from './cpe-profile.js';
export * from './cpe-profile-readers.js';
export * from './incident-sink.js';
export * from './inventory.js';
export * from './ledger.js';
export * from './ledger-reader.js';
export * from './log-parser.js';
export * from './nas-client.js';
export * from './nas-vendor.js';
export * from './nas-vendor-encoding.js';
export * from './notification-channel.js';
export * from './outbound-http.js';
export * from './payment-provider.js';
export * from './report-exporter.js';
export * from './sms-failover.js';
export * from './sms-sender.js';
