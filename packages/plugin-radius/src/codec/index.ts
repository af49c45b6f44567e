/**
 * Public API of the RADIUS codec: packet encode/decode with authenticators and Message-Authenticator, the attribute
 * list codec, the dictionary and its vendor extension, password hiding, CHAP and the verifiers.
 */

export {
  type AttributeCodecContext,
  type AttributeInput,
  type NamedAttributeInput,
  type RadiusAttribute,
  type RawAttributeInput,
  type TypedAttributeInput,
  type TypedValue,
  MAX_VALUE_LENGTH,
  decodeAttributes,
  encodeAttributes,
} from './attributes.js';
export {
  type RadiusSecret,
  chapPassword,
  decodeTunnelPassword,
  decodeUserPassword,
  encodeTunnelPassword,
  encodeUserPassword,
  verifyChap,
} from './crypto.js';
export {
  type RadiusAttributeDef,
  type RadiusDataType,
  type RadiusVendor,
  type RadiusVendorDictionary,
  type VsaFormat,
  Attr,
  RadiusDictionary,
  STANDARD_ATTRIBUTES,
  createDictionary,
  standardDictionary,
} from './dictionary.js';
export {
  type RadiusDecodeErrorCode,
  type RadiusEncodeErrorCode,
  RadiusDecodeError,
  RadiusEncodeError,
} from './errors.js';
export {
  type AuthenticatorKind,
  type DecodeOptions,
  type EncodeOptions,
  type MessageAuthenticatorStatus,
  type PacketCodeName,
  type PacketInput,
  type RadiusPacket,
  type ResponseInput,
  MAX_PACKET_LENGTH,
  PACKET_CODE_NAMES,
  PacketCode,
  authenticatorKind,
  chapChallenge,
  computeAuthenticator,
  decode,
  encode,
  encodeResponse,
  hidingVector,
  packetCodeOf,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
  verifyResponseAuthenticator,
} from './packet.js';
export { type RadiusValue, type RadiusValueInput, formatIPv6, parseIPv6 } from './values.js';
