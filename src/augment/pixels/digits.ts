// A tiny built-in bitmap font for the digits 0-9 (3×5 cells, one blank column between glyphs),
// drawn by an integer scale factor — enough for v1 `anno_number` shape indices without a font
// renderer (v1 used cv::putText). Pure geometry: the caller fills the rectangles it is handed.

/** Glyph size in font cells (before scaling). */
export const DIGIT_WIDTH = 3;
export const DIGIT_HEIGHT = 5;
/** Blank cells between two glyphs. */
export const DIGIT_SPACING = 1;

/** Rows top to bottom, '#' = set. */
const GLYPHS: readonly (readonly string[])[] = [
  ['###', '#.#', '#.#', '#.#', '###'], // 0
  ['.#.', '##.', '.#.', '.#.', '###'], // 1
  ['###', '..#', '###', '#..', '###'], // 2
  ['###', '..#', '.##', '..#', '###'], // 3
  ['#.#', '#.#', '###', '..#', '..#'], // 4
  ['###', '#..', '###', '..#', '###'], // 5
  ['###', '#..', '###', '#.#', '###'], // 6
  ['###', '..#', '.#.', '.#.', '.#.'], // 7
  ['###', '#.#', '###', '#.#', '###'], // 8
  ['###', '#.#', '###', '..#', '###'], // 9
];

/** The glyph of a digit character as rows of booleans (undefined for other characters). */
export function digitGlyph(char: string): readonly boolean[][] | undefined {
  const code = char.charCodeAt(0) - 48;
  if (char.length !== 1 || code < 0 || code > 9) return undefined;
  return GLYPHS[code].map((row) => [...row].map((c) => c === '#'));
}

/** Width in pixels of `text` (digits only) at `scale`. */
export function digitsWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * (DIGIT_WIDTH + DIGIT_SPACING) - DIGIT_SPACING) * scale;
}

/**
 * Hand every set cell of `text` (digits only; other characters leave a blank glyph-wide gap) to
 * `fill(x, y, width, height)` as a scale × scale pixel square, glyph top-left at (left, top).
 */
export function drawDigits(text: string, left: number, top: number, scale: number, fill: (x: number, y: number, width: number, height: number) => void): void {
  for (let i = 0; i < text.length; i++) {
    const glyph = GLYPHS[text.charCodeAt(i) - 48];
    if (glyph === undefined) continue;
    const x0 = left + i * (DIGIT_WIDTH + DIGIT_SPACING) * scale;
    for (let row = 0; row < DIGIT_HEIGHT; row++) {
      for (let col = 0; col < DIGIT_WIDTH; col++) {
        if (glyph[row][col] === '#') fill(x0 + col * scale, top + row * scale, scale, scale);
      }
    }
  }
}
