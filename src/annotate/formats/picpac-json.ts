// picpac annotation JSON (REFERENCE §1.3.3) ⇄ shapes. Writing: normalised geometry, a 1-based
// numeric `label` from the class list (0 stays background when a mask is rasterised), the
// class name as `class` and a `tag` (instance number, 1-based, unless the shape has one) —
// readers ignore unknown keys, so `id`, `class`, `category` (the class's COCO id when it is not
// the label), `crowd`, `keypoints` and `coco` (the imported COCO id/bbox/area) ride along for
// lossless round trips.
// Reading: `class` wins over `label`; a label k maps to classes[k-1] when that exists.
import { cocoCategoryIds, type CocoCategoryInfo } from '../class-table.ts';
import { AnnotationInputError, checkShape, type Shape } from '../shapes.ts';

export interface PicpacJsonReadOptions {
  classes?: string[];
  /** Named in errors. */
  file?: string;
  recordIndex?: number;
  /** A shape with a numeric label but no class name gets the label as its name ("3"). */
  nameUnknownLabels?: boolean;
  /** Filled with the COCO category id (`category`) each class's shapes carry. */
  categories?: Record<string, CocoCategoryInfo>;
}

export function toPicpacAnnotation(shapes: Shape[], classes: string[], coco: Record<string, CocoCategoryInfo> = {}): string {
  const categoryIds = cocoCategoryIds(classes, coco);
  const out = shapes.map((shape, i) => {
    const json: Record<string, unknown> = { type: shape.type, geometry: shape.geometry };
    if (shape.className !== undefined) {
      const k = classes.indexOf(shape.className);
      if (k >= 0) json.label = k + 1;
      json.class = shape.className;
      // The class table's COCO id rides with the shape when it is not the label (3/7/90 ≠ 1/2/3).
      if (k >= 0 && categoryIds[k] !== k + 1) json.category = categoryIds[k];
    }
    json.tag = shape.tag ?? i + 1;
    if (shape.id !== undefined) json.id = shape.id;
    if (shape.crowd) json.crowd = true;
    if (shape.keypoints !== undefined) json.keypoints = shape.keypoints;
    if (shape.coco !== undefined) json.coco = shape.coco;
    return json;
  });
  return JSON.stringify({ shapes: out });
}

export function fromPicpacAnnotation(text: string, options: PicpacJsonReadOptions = {}): Shape[] {
  const file = options.file === undefined ? undefined : options.recordIndex === undefined ? options.file : `${options.file}#${options.recordIndex}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AnnotationInputError(`annotation is not valid JSON (${(error as Error).message})`, { file });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new AnnotationInputError('annotation must be a JSON object', { file });
  const shapes = (json as Record<string, unknown>).shapes;
  if (shapes === undefined) return []; // v1 tolerated a missing list
  if (!Array.isArray(shapes)) throw new AnnotationInputError('"shapes" must be an array', { file });
  return shapes.map((value, i) => {
    let shape: Shape;
    try {
      shape = checkShape(value, `shapes[${i}]`, { keepSource: true });
    } catch (error) {
      if (error instanceof AnnotationInputError) throw new AnnotationInputError(error.message, { file });
      throw error;
    }
    const label = (value as Record<string, unknown>).label;
    if (shape.className === undefined && typeof label === 'number' && Number.isInteger(label) && options.classes?.[label - 1] !== undefined) {
      shape.className = options.classes[label - 1];
    }
    if (shape.className === undefined && options.nameUnknownLabels && typeof label === 'number' && Number.isFinite(label)) shape.className = String(label);
    const category = (value as Record<string, unknown>).category;
    if (options.categories && shape.className !== undefined && Number.isSafeInteger(category) && options.categories[shape.className] === undefined) {
      options.categories[shape.className] = { id: category as number };
    }
    return shape;
  });
}
