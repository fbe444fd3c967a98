/**
 * @sluice/site-to-site: NiFi-compatible Site-to-Site over HTTP. FlowFile packaging v3 (re-exported
 * from @sluice/api), the S2S FlowFile codec v1, CRC32, NiFi's compression framing, the HTTP client
 * and framework-agnostic server handlers over port backends the engine implements.
 */
export {
  FLOWFILE_V3_MIME_TYPE,
  FlowFileV3Error,
  packFlowFileV3,
  packFlowFileV3Header,
  type UnpackedFlowFile,
  type UnpackLimits,
  unpackFlowFileV3,
} from '@sluice/api';
export { ChaosProxy, type Fault, type FaultPhase } from './chaos-proxy.ts';
export {
  type ReceiveResult,
  ReceiveTransaction,
  resolveBaseUrl,
  type SendResult,
  type SendSummary,
  SendTransaction,
  SiteToSiteClient,
  type SiteToSiteClientOptions,
} from './client.ts';
export {
  type DataPacket,
  type DecodeLimits,
  type DecodeOptions,
  decodeDataPackets,
  type EncodeOptions,
  encodeDataPacketHeader,
  encodeDataPackets,
  MAX_ATTRIBUTES_PER_PACKET,
  type ReceivedDataPacket,
  takeBufferedContent,
} from './codec.ts';
export {
  COMPRESSION_CHUNK_BYTES,
  compressStream,
  DEFAULT_MAX_CHUNK_BYTES,
  type DecompressLimits,
  decompressStream,
  MIN_COMPRESSION_CHUNK_BYTES,
} from './compression.ts';
export { Crc32 } from './crc32.ts';
export {
  BadChecksumError,
  CommitOutcomeUnknownError,
  DestinationFullError,
  ForbiddenError,
  NoPeerAvailableError,
  PortNotRunningError,
  SiteToSiteCodecError,
  SiteToSiteConnectionError,
  SiteToSiteError,
  SiteToSiteHttpError,
  SiteToSiteProtocolError,
  SiteToSiteTimeoutError,
  TransactionNotFoundError,
  UnauthorizedError,
  UnknownPortError,
} from './errors.ts';
export { PeerSelector, type PeerSelectorOptions, peerWeights, type TransferDirection } from './peer-selector.ts';
export {
  HEADERS,
  LOCATION_URI_INTENT_TRANSACTION,
  type PeerStatus,
  PROTOCOL_VERSION,
  parseControllerEntity,
  parsePeersEntity,
  parseTransactionResult,
  type RemotePort,
  ResponseCode,
  type SiteToSiteDetails,
  type TransactionResult,
} from './protocol.ts';
export {
  type InputPortBackend,
  type OutgoingBatch,
  type OutputPortBackend,
  type PortBackend,
  type SiteToSitePorts,
  SiteToSiteServer,
  type SiteToSiteServerOptions,
  type StagedReceive,
  type TakeLimits,
  type TransactionInfo,
  type TransferContext,
} from './server.ts';
