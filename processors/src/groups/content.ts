/** The content group of the standard library: its processors and controller services, registered by ../index.ts. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';
import { CompressContent } from '../compress-content/index.ts';
import { CryptographicHashContent } from '../cryptographic-hash-content/index.ts';
import { IdentifyMimeType } from '../identify-mime-type/index.ts';
import { MergeContent } from '../merge-content/index.ts';
import { ReplaceText } from '../replace-text/index.ts';
import { SplitJson } from '../split-json/index.ts';
import { SplitText } from '../split-text/index.ts';
import { TransformJSON } from '../transform-json/index.ts';
import { ValidateJson } from '../validate-json/index.ts';

export const processors: readonly AnyProcessorDefinition[] = [
  CompressContent,
  CryptographicHashContent,
  IdentifyMimeType,
  MergeContent,
  ReplaceText,
  SplitJson,
  SplitText,
  TransformJSON,
  ValidateJson,
];
export const services: readonly AnyServiceDefinition[] = [];
