/**
 * The extension points a scaffold can target: for each, the `@rgz/core` point it contributes to, the contract suite
 * its tests run, and the one-line description written into package.json and the plugin value.
 */

export const POINT_KEYS = ['sms', 'payment', 'nas-vendor', 'cpe', 'log', 'report', 'notify', 'backup'] as const;

export type PointKey = (typeof POINT_KEYS)[number];

export interface PointInfo {
  readonly key: PointKey;
  /** The `point()` exported by `@rgz/core` the plugin contributes to. */
  readonly point: string;
  /** The interface the implementation satisfies. */
  readonly contract: string;
  /** The shared suite from `@rgz/core/testing` the generated tests run. */
  readonly suite: string;
  /** What the generated implementation does: package.json `description` and the plugin's `description`. */
  readonly description: string;
  /** npm keyword next to `rgz` and `rgz-plugin`. */
  readonly keyword: string;
}

export const POINTS: Readonly<Record<PointKey, PointInfo>> = {
  sms: {
    key: 'sms',
    point: 'SmsSenders',
    contract: 'SmsSender',
    suite: 'smsSenderContract',
    description: 'RGZ SMS sender that writes each message as one JSON line to a file, or keeps it in memory',
    keyword: 'sms',
  },
  payment: {
    key: 'payment',
    point: 'PaymentProviders',
    contract: 'PaymentProvider',
    suite: 'paymentProviderContract',
    description: 'RGZ payment provider for cash paid to an agent: the agent records the payment, RGZ credits it',
    keyword: 'payment',
  },
  'nas-vendor': {
    key: 'nas-vendor',
    point: 'NasVendors',
    contract: 'NasVendor',
    suite: 'nasVendorContract',
    description: 'RGZ NAS dialect using only standard RADIUS attributes (Session-Timeout, Idle-Timeout, Acct-Interim-Interval)',
    keyword: 'radius',
  },
  cpe: {
    key: 'cpe',
    point: 'CpeProfiles',
    contract: 'CpeProfile',
    suite: 'cpeProfileContract',
    description: 'RGZ CPE SNMP profile reading the standard IF-MIB interfaces, uptime and description',
    keyword: 'snmp',
  },
  log: {
    key: 'log',
    point: 'LogParsers',
    contract: 'LogParser',
    suite: 'logParserContract',
    description: 'RGZ log parser turning syslog lines into records with configurable regular expressions',
    keyword: 'syslog',
  },
  report: {
    key: 'report',
    point: 'ReportExporters',
    contract: 'ReportExporter',
    suite: 'reportExporterContract',
    description: 'RGZ report exporter writing the figures of a period as CSV files',
    keyword: 'report',
  },
  notify: {
    key: 'notify',
    point: 'NotificationChannels',
    contract: 'NotificationChannel',
    suite: 'notificationChannelContract',
    description: 'RGZ notification channel posting each notification as JSON to a webhook URL',
    keyword: 'notification',
  },
  backup: {
    key: 'backup',
    point: 'BackupTargets',
    contract: 'BackupTarget',
    suite: 'backupTargetContract',
    description: 'RGZ backup target storing objects as files in a local or mounted folder',
    keyword: 'backup',
  },
};

export function isPointKey(value: string): value is PointKey {
  return (POINT_KEYS as readonly string[]).includes(value);
}
