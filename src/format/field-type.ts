// Human-readable names of field kinds and codecs, for CLIs, servers and error messages.
import { invalidParameterError } from '../errors.ts';
import { FieldKind, ImageCodec, TensorDType } from './layout.ts';
import type { FieldKindCode } from './layout.ts';

export type FieldKindName = 'image' | 'label' | 'tensor' | 'bytes';

const KIND_NAMES: Record<FieldKindCode, FieldKindName> = { 1: 'image', 2: 'label', 3: 'tensor', 4: 'bytes' };
const CODEC_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ImageCodec).map(([name, code]) => [code, name]));
const DTYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TensorDType).map(([name, code]) => [code, name]));

/**
 * The name of a field kind code ('image', 'label', 'tensor', 'bytes').
 * @throws TypeError when `kind` is not a FieldKind code 1..4.
 */
export function fieldKindName(kind: FieldKindCode): FieldKindName {
  const name = KIND_NAMES[kind];
  if (name === undefined) throw invalidParameterError('kind', 'a FieldKind code 1..4', kind);
  return name;
}

/**
 * The FieldKind code of a field kind name; the inverse of {@link fieldKindName}.
 * @throws TypeError when `name` is not one of the four kind names.
 */
export function fieldKindCode(name: FieldKindName): FieldKindCode {
  if (typeof name !== 'string' || !Object.hasOwn(FieldKind, name)) {
    throw invalidParameterError('name', "one of 'image', 'label', 'tensor', 'bytes'", name);
  }
  return FieldKind[name];
}

/** Image codec name ('jpeg', 'png', ..., 'unknown' for 0 or an unassigned code). */
export function imageCodecName(codec: number): string {
  return codec === ImageCodec.unknown ? 'unknown' : (CODEC_NAMES[codec] ?? 'unknown');
}

/** 'image/jpeg', 'image/unknown', 'label/png', 'tensor/float32', 'tensor/unknown', 'bytes'. */
export function fieldTypeName(kind: FieldKindCode, codec: number): string {
  switch (kind) {
    case FieldKind.image:
      return `image/${imageCodecName(codec)}`;
    case FieldKind.label:
      return `label/${imageCodecName(codec)}`;
    case FieldKind.tensor:
      return `tensor/${DTYPE_NAMES[codec] ?? 'unknown'}`;
    case FieldKind.bytes:
      return 'bytes';
    default:
      throw invalidParameterError('kind', 'a FieldKind code 1..4', kind);
  }
}
