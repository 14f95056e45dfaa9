/**
 * Splitting long text into pieces that fit Discord's limits without losing any of it:
 * blocks (sections) are packed into pages, a block too long for a page is split at line ends,
 * and a line too long for a page is split between characters.
 */

/** Splits a line longer than `max` into pieces, never inside a surrogate pair. */
export function hardSplit(line: string, max: number): string[] {
  if (line.length <= max) return [line];
  const pieces: string[] = [];
  let piece = "";
  for (const char of line) {
    if (piece.length + char.length > max) {
      pieces.push(piece);
      piece = "";
    }
    piece += char;
  }
  if (piece !== "") pieces.push(piece);
  return pieces;
}

/** Packs blocks into description-sized chunks, keeping a blank line between sections. */
export function packBlocks(blocks: string[], max: number): string[] {
  const chunks: string[] = [];
  let chunk = "";
  for (const block of blocks) {
    const candidate = chunk === "" ? block : `${chunk}\n\n${block}`;
    if (candidate.length <= max) {
      chunk = candidate;
    } else {
      if (chunk !== "") chunks.push(chunk);
      chunk = block;
    }
  }
  if (chunk !== "") chunks.push(chunk);
  return chunks;
}

/** Splits one block at line ends into pieces of at most `max` characters. */
export function splitBlock(block: string, max: number): string[] {
  const pieces: string[] = [];
  let piece = "";
  for (const line of block.split("\n")) {
    for (const part of hardSplit(line, max)) {
      const candidate = piece === "" ? part : `${piece}\n${part}`;
      if (candidate.length <= max) {
        piece = candidate;
      } else {
        pieces.push(piece);
        piece = part;
      }
    }
  }
  if (piece !== "") pieces.push(piece);
  return pieces;
}

/** Pages of at most `max` characters from blocks, each block split first if it is too long. */
export function paginate(blocks: string[], max: number): string[] {
  return packBlocks(blocks.flatMap((block) => splitBlock(block, max)), max);
}
