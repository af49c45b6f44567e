/**
 * Typed errors of the RADIUS codec. Decoding errors mean "silently discard this packet" to a server (RFC 2865 §3);
 * encoding errors mean the caller asked for something the wire format cannot carry. Both carry a stable `code`
 * string so callers and metrics can branch on it without parsing messages.
 */

/** Why a received packet (or attribute list) was rejected. */
export type RadiusDecodeErrorCode =
  /** Fewer than 20 octets received. */
  | 'packet_too_short'
  /** Code field is not one the codec knows (RFC 2865 §3, RFC 5176 §2.3, RFC 7930). */
  | 'unknown_code'
  /** Length field < 20. */
  | 'length_too_small'
  /** Length field > 4096. */
  | 'length_too_large'
  /** Length field larger than the octets received (RFC 2865 §3: discard). */
  | 'length_exceeds_data'
  /** One octet left where an attribute header (2 octets) should start. */
  | 'attribute_header_overflow'
  /** Attribute type 0 (reserved). */
  | 'attribute_type_zero'
  /** Attribute length field < 2. */
  | 'attribute_length_invalid'
  /** Attribute length runs past the end of the packet. */
  | 'attribute_overflow'
  /** Value has the wrong size for its data type (integer ≠ 4, ipaddr ≠ 4, …). */
  | 'attribute_value_size'
  /** Value has the right size but is not valid (bad tag, prefix length > 128, undecryptable password, …). */
  | 'attribute_value_invalid'
  /** Vendor-Specific too short for a vendor id, or its sub-attributes overrun it. */
  | 'vsa_truncated'
  /** Message-Authenticator whose length is not 18. */
  | 'message_authenticator_length'
  /** More than one Message-Authenticator (RFC 3579 §3.2 allows 0-1). */
  | 'message_authenticator_duplicate'
  /** Status-Server or EAP-Message without Message-Authenticator (RFC 5997 §3, RFC 3579 §3.2). */
  | 'message_authenticator_missing'
  /** A response carries hidden attributes but no request authenticator was given to reveal them. */
  | 'request_authenticator_required';

/** Why a packet or attribute could not be encoded. */
export type RadiusEncodeErrorCode =
  | 'unknown_code'
  | 'unknown_attribute'
  | 'invalid_identifier'
  | 'invalid_value'
  | 'invalid_tag'
  | 'value_too_long'
  | 'packet_too_large'
  | 'request_authenticator_required'
  | 'message_authenticator_required';

export class RadiusDecodeError extends Error {
  readonly code: RadiusDecodeErrorCode;
  /** Octet offset in the packet (or attribute list) where the problem was found, when known. */
  readonly offset: number | undefined;
  constructor(code: RadiusDecodeErrorCode, message: string, offset?: number) {
    super(message);
    this.name = 'RadiusDecodeError';
    this.code = code;
    this.offset = offset;
  }
}

export class RadiusEncodeError extends Error {
  readonly code: RadiusEncodeErrorCode;
  /** Name of the attribute at fault, when there is one. */
  readonly attribute: string | undefined;
  constructor(code: RadiusEncodeErrorCode, message: string, attribute?: string) {
    super(message);
    this.name = 'RadiusEncodeError';
    this.code = code;
    this.attribute = attribute;
  }
}
