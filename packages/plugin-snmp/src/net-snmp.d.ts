/**
 * The part of `net-snmp` 3.29 this plugin uses (no @types package is installed; @types/net-snmp 3.23 exists upstream).
 * Callbacks only; see session.ts for the promise wrappers.
 */
declare module 'net-snmp' {
  import type { EventEmitter } from 'node:events';

  export interface RawVarbind {
    oid: string;
    type: number;
    value: unknown;
  }

  export interface SessionOptions {
    port?: number;
    retries?: number;
    timeout?: number;
    backoff?: number;
    transport?: 'udp4' | 'udp6';
    version?: number;
    idBitsSize?: 16 | 32;
    backwardsGetNexts?: boolean;
    reportOidMismatchErrors?: boolean;
    context?: string;
    engineID?: string | Buffer;
  }

  export interface V3User {
    name: string;
    level: number;
    authProtocol?: string;
    authKey?: string;
    privProtocol?: string;
    privKey?: string;
  }

  export interface Session extends EventEmitter {
    get(oids: string[], cb: (error: Error | null, varbinds?: RawVarbind[]) => void): Session;
    getBulk(
      oids: string[],
      nonRepeaters: number,
      maxRepetitions: number,
      cb: (error: Error | null, varbinds?: Array<RawVarbind | RawVarbind[]>) => void,
    ): Session;
    close(): Session;
  }

  export function createSession(target: string, community: string, options?: SessionOptions): Session;
  export function createV3Session(target: string, user: V3User, options?: SessionOptions): Session;
  export function isVarbindError(varbind: RawVarbind): boolean;

  export const Version1: number;
  export const Version2c: number;
  export const Version3: number;
  export const ObjectType: Record<string, number> & Record<number, string>;
  export const SecurityLevel: Record<string, number>;
  export const AuthProtocols: Record<string, string>;
  export const PrivProtocols: Record<string, string>;
  export const ErrorStatus: Record<string, number> & Record<number, string>;

  export class RequestTimedOutError extends Error {}
  export class RequestFailedError extends Error {
    status: number;
  }
  export class ResponseInvalidError extends Error {
    code: number;
  }

  const snmp: {
    createSession: typeof createSession;
    createV3Session: typeof createV3Session;
    isVarbindError: typeof isVarbindError;
    Version1: number;
    Version2c: number;
    Version3: number;
    ObjectType: typeof ObjectType;
    SecurityLevel: typeof SecurityLevel;
    AuthProtocols: typeof AuthProtocols;
    PrivProtocols: typeof PrivProtocols;
    ErrorStatus: typeof ErrorStatus;
    RequestTimedOutError: typeof RequestTimedOutError;
    RequestFailedError: typeof RequestFailedError;
    ResponseInvalidError: typeof ResponseInvalidError;
  };
  export default snmp;
}
