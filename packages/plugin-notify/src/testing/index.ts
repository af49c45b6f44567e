/**
 * Test peers for notification channels, for this package's tests and for plugins that notify (incidents):
 * a real SMTP server, an HTTP webhook receiver and an in-process SMS sender. `@rgz/plugin-notify/testing`.
 */
export { decodeWords, type ParsedMail, parseMail } from './mime.js';
export { RecordingSmsSender } from './recording-sms.js';
export { type ReceivedMail, type SmtpFailure, type SmtpPeer, type SmtpPeerOptions, startSmtpPeer } from './smtp-peer.js';
export { type ReceivedPost, startWebhookPeer, type WebhookPeer } from './webhook-peer.js';
