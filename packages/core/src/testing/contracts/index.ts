/**
 * Shared contract suites: one per extension point whose behaviour can be tested generically. An implementation's
 * test file calls the suite with a harness (the implementation wired to a test peer, plus hooks to observe or force
 * that peer), e.g. `smsSenderContract('letexto', async () => ({ sender, recipient, received, failNext, close }))`.
 */

export * from './backup-target.contract.js';
export * from './cpe-profile.contract.js';
export * from './incident-sink.contract.js';
export * from './log-parser.contract.js';
export * from './nas-client.contract.js';
export * from './nas-vendor.contract.js';
export * from './notification-channel.contract.js';
export * from './payment-provider.contract.js';
export * from './report-exporter.contract.js';
export * from './sms-sender.contract.js';
export { collect, readAll, rejectionOf, sameBytes, thrownBy } from './util.js';
